import { randomBytes } from 'node:crypto';

import type { PeerConnection as NativePeerConnection, Track } from 'node-datachannel';

import { CandidateBatcher, type LocalCandidate } from './candidate-batcher.js';
import {
  resolveCallPeerOptions,
  type CallPeerOptions,
  type ResolvedCallPeerOptions,
} from './call-peer-options.js';
import {
  parsePeerState,
  type CallPeerState,
  type TransportCloseReason,
} from './call-peer-state.js';
import { emptyStats, type CallPeerStats } from './call-peer-stats.js';
import { guardCallback } from './native-callback.js';
import { Audio, PeerConnection } from './native-library.js';
import { notePeerConnectionCreated, notePeerConnectionReleased } from './native-peer-count.js';
import { parseAudioOffer, type AudioOffer } from './offer-sdp.js';
import { hasIpAddress, parseRemoteCandidate, type RemoteCandidate } from './remote-candidate.js';
import { classifyPacket, looksLikeRtp, rtpPayloadType } from './rtp-packet.js';
import { TransportError, messageOf } from './transport-error.js';

/** The local answer, for the signalling layer to send as `m.call.answer`. */
export interface LocalAnswer {
  sdp: string;
}

/** What became of a remote candidate handed to `addRemoteCandidate`. */
export type RemoteCandidateOutcome =
  /** Given to ICE. */
  | 'applied'
  /** Kept until the remote description is set. */
  | 'queued'
  /** Not for ICE: end-of-candidates, another m-line's candidate, or the peer is closed. */
  | 'skipped'
  /** Refused: a host name instead of an IP, too many queued, or the library refused it. */
  | 'rejected';

/** What the bridge sends: mono Opus with in-band FEC (the library's default says stereo). */
const OPUS_FMTP = 'minptime=10;useinbandfec=1';

/** The media stream id our track announces. */
const MSID_STREAM = 'voicebridge';

/** Remote candidates kept while no offer is set; a real caller sends a handful. */
const MAX_QUEUED_CANDIDATES = 64;

/**
 * The WebRTC side of one call: answers the caller's offer with an audio-only Opus track and
 * carries RTP both ways. Lives on the main thread only. Every callback the native library
 * makes is guarded, so a throw in this code or in the owner's callbacks closes this peer
 * (reason `transport_error`) instead of aborting the process.
 */
export class CallPeer {
  /** The Matrix call id. */
  readonly callId: string;
  /** Options with defaults filled in. */
  readonly #options: ResolvedCallPeerOptions;
  // The owner's callbacks, each guarded: what it throws closes this peer and goes no further.
  /** Guarded `onRtp`. */
  readonly #onRtp: (packet: Buffer) => void;
  /** Guarded `onLocalCandidates`. */
  readonly #onLocalCandidates: (batch: LocalCandidate[]) => void;
  /** Guarded `onState`. */
  readonly #onState: (state: CallPeerState) => void;
  /** Guarded `onMediaOpen`. */
  readonly #onMediaOpen: () => void;
  /** Guarded `onClosed`. */
  readonly #onClosed: (reason: string) => void;
  /** Traffic counters. */
  readonly #stats: CallPeerStats = emptyStats();
  /** Resolves once the library has confirmed the close; see `released`. */
  readonly #released: Promise<void>;
  /** Resolves `#released`. */
  #resolveReleased: () => void = () => undefined;
  /** The parsed offer, from `answer()` on. */
  #offer: AudioOffer | undefined;
  /** The Opus payload type of the offer, checked on every received packet. */
  #payloadType = -1;
  /** Our SSRC, chosen so it cannot collide with the caller's. */
  #ssrc = 0;
  /** The native connection, from `answer()` until the library confirms its close. */
  #pc: NativePeerConnection | undefined;
  /** The audio track, with the same lifetime as `#pc`. */
  #track: Track | undefined;
  /** The last connection state reported. */
  #state: CallPeerState = 'new';
  /** True while the track is open and the peer is not closing: the only time sending is safe. */
  #mediaOpen = false;
  /** Set first thing in `close()`; from then on nothing new reaches the library. */
  #closing = false;
  /** Why the peer closed. */
  #closeReason: string | undefined;
  /** Candidates can arrive before the offer; they wait here until it is set. */
  #queuedCandidates: RemoteCandidate[] = [];
  /** True once the library accepted the offer. */
  #remoteDescriptionSet = false;
  /**
   * True once the owner says the answer is on its way to the caller (or when the owner does
   * not wait for that): only then are the caller's candidates given to ICE.
   */
  #answerDelivered: boolean;
  /** Batches local candidates for the signalling layer. */
  #batcher: CandidateBatcher | undefined;
  /** Settles the promise `answer()` returned. */
  #answerWaiter:
    | { resolve: (answer: LocalAnswer) => void; reject: (error: Error) => void }
    | undefined;
  /** True once the library reported the connection's `closed` state. */
  #connectionClosed = false;
  /** True once the library reported the track closed. */
  #trackClosed = false;
  /** True once `released` has resolved. */
  #isReleased = false;

  /** Checks the options (TransportError `invalid_option`); nothing native exists until `answer()`. */
  constructor(options: CallPeerOptions) {
    this.#options = resolveCallPeerOptions(options);
    this.callId = this.#options.callId;
    this.#answerDelivered = options.waitForAnswerDelivery !== true;

    const { onRtp, onLocalCandidates, onState, onMediaOpen, onClosed } = this.#options;
    this.#onRtp = this.#guard('onRtp', onRtp);
    this.#onLocalCandidates = this.#guard('onLocalCandidates', onLocalCandidates);
    this.#onState = this.#guard('onState', onState ?? (() => undefined));
    this.#onMediaOpen = this.#guard('onMediaOpen', onMediaOpen ?? (() => undefined));
    this.#onClosed = this.#guard('onClosed', onClosed);

    this.#released = new Promise((resolve) => {
      this.#resolveReleased = resolve;
    });
  }

  /** The last connection state. */
  get state(): CallPeerState {
    return this.#state;
  }

  /** True while RTP can be sent. */
  get mediaOpen(): boolean {
    return this.#mediaOpen;
  }

  /** Why the peer closed, or undefined while it is open. */
  get closeReason(): string | undefined {
    return this.#closeReason;
  }

  /** The SSRC of the RTP this peer sends (0 before `answer()`). */
  get ssrc(): number {
    return this.#ssrc;
  }

  /** The offer's Opus payload type, which outgoing RTP must carry (-1 before `answer()`). */
  get payloadType(): number {
    return this.#payloadType;
  }

  /**
   * Resolves once the library has confirmed the close of the connection and its track, and
   * so has let go of this peer's callbacks. Never resolves before `close()`.
   */
  get released(): Promise<void> {
    return this.#released;
  }

  /** A copy of the traffic counters. */
  stats(): CallPeerStats {
    return { ...this.#stats };
  }

  /**
   * Answers a remote offer: checks it (TransportError `invalid_sdp`), adds an audio-only
   * Opus track matching its mid and payload type, sets it as the remote description and
   * resolves with the local answer. Local candidates follow through `onLocalCandidates`,
   * never before the answer has been handed over. Rejects with `closed` if the peer closes
   * first.
   */
  async answer(offerSdp: string): Promise<LocalAnswer> {
    if (this.#closing) {
      throw new TransportError('closed', `call ${this.callId}: answer() after close`);
    }
    if (this.#offer !== undefined) {
      throw new TransportError('invalid_state', `call ${this.callId}: answer() was already called`);
    }
    const offer = parseAudioOffer(offerSdp);
    this.#offer = offer;
    this.#payloadType = offer.payloadType;
    this.#ssrc = chooseSsrc(offer.remoteSsrcs);

    const answered = new Promise<LocalAnswer>((resolve, reject) => {
      this.#answerWaiter = { resolve, reject };
    });
    this.#openConnection(offer, offerSdp);
    return answered;
  }

  /**
   * Hands a remote candidate to ICE, or queues it until the offer is set. Throws a
   * TransportError `invalid_candidate` for malformed input; an empty candidate
   * (end-of-candidates) is skipped and never reaches ICE.
   */
  addRemoteCandidate(input: unknown): RemoteCandidateOutcome {
    const candidate = parseRemoteCandidate(input);
    if (this.#closing || candidate === 'end_of_candidates') return 'skipped';

    if (!this.#remoteDescriptionSet || !this.#answerDelivered) {
      if (this.#queuedCandidates.length >= MAX_QUEUED_CANDIDATES) return 'rejected';
      this.#queuedCandidates.push(candidate);
      return 'queued';
    }
    return this.#applyCandidate(candidate);
  }

  /**
   * Sends one RTP packet (header included; the library encrypts it). Returns false, without
   * touching the library, unless the track is open and the peer is not closing: a send on a
   * closed track aborts the process.
   */
  sendRtp(packet: Buffer): boolean {
    const track = this.#track;
    if (!this.#mediaOpen || track === undefined || !looksLikeRtp(packet)) {
      this.#stats.droppedOut += 1;
      return false;
    }

    let sent: boolean;
    try {
      sent = track.isOpen() && track.sendMessageBinary(packet);
    } catch (error) {
      this.#stats.droppedOut += 1;
      this.#failWith(nativeError(this.callId, 'sending RTP', error));
      return false;
    }

    if (sent) {
      this.#stats.packetsOut += 1;
      this.#stats.bytesOut += packet.length;
    } else {
      this.#stats.droppedOut += 1;
    }
    return sent;
  }

  /**
   * Closes the peer; later calls do nothing. Sending stops first, then the track and the
   * connection close, then `onState('closed')` and `onClosed(reason)` are called, once.
   */
  close(reason: TransportCloseReason | (string & {})): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#closeReason = reason;
    this.#mediaOpen = false;
    this.#batcher?.stop();
    this.#queuedCandidates = [];

    const waiter = this.#answerWaiter;
    this.#answerWaiter = undefined;
    waiter?.reject(
      new TransportError('closed', `call ${this.callId} closed (${reason}) before its answer`),
    );

    this.#closeNative();
    this.#state = 'closed';
    this.#onState('closed');
    this.#onClosed(reason);
    this.#releaseIfConfirmed();
  }

  #openConnection(offer: AudioOffer, offerSdp: string): void {
    const { iceServers, bindAddress, portRangeBegin, portRangeEnd } = this.#options;
    let pc: NativePeerConnection;
    try {
      pc = new PeerConnection(this.callId, {
        iceServers,
        bindAddress,
        portRangeBegin,
        portRangeEnd,
      });
    } catch (error) {
      throw this.#abandon(
        nativeError(this.callId, 'creating the connection', error),
        'transport_error',
      );
    }
    this.#pc = pc;
    notePeerConnectionCreated();

    this.#batcher = new CandidateBatcher(
      this.#options.candidateBatchMs,
      offer.mid,
      offer.mLineIndex,
      this.#onLocalCandidates,
    );

    try {
      pc.onStateChange(this.#guard('onStateChange', (state) => this.#handleState(state)));
      pc.onGatheringStateChange(
        this.#guard('onGatheringStateChange', (state) => this.#handleGatheringState(state)),
      );
      pc.onLocalDescription(
        this.#guard('onLocalDescription', (sdp, type) => this.#handleLocalDescription(sdp, type)),
      );
      pc.onLocalCandidate(
        this.#guard('onLocalCandidate', (candidate) => this.#handleLocalCandidate(candidate)),
      );

      // The track must exist before the offer is set, or the library answers without audio.
      const audio = new Audio(offer.mid, 'SendRecv');
      audio.addOpusCodec(offer.payloadType, OPUS_FMTP);
      audio.addSSRC(this.#ssrc, randomHex(8), MSID_STREAM, `audio-${randomHex(8)}`);
      const track = pc.addTrack(audio);
      this.#track = track;
      track.onOpen(this.#guard('track.onOpen', () => this.#handleTrackOpen()));
      track.onClosed(this.#guard('track.onClosed', () => this.#handleTrackClosed()));
      track.onError(this.#guard('track.onError', (message) => this.#handleTrackError(message)));
      track.onMessage(this.#guard('track.onMessage', (packet) => this.#handlePacket(packet)));
    } catch (error) {
      throw this.#abandon(
        nativeError(this.callId, 'setting up the track', error),
        'transport_error',
      );
    }

    try {
      pc.setRemoteDescription(offerSdp, 'offer');
    } catch (error) {
      const refused = new TransportError(
        'negotiation_failed',
        `call ${this.callId}: the library refused the offer: ${messageOf(error)}`,
        { cause: error },
      );
      throw this.#abandon(refused, 'negotiation_failed');
    }
    this.#remoteDescriptionSet = true;
    if (this.#answerDelivered) this.#applyQueued();
  }

  /**
   * Tells the peer that the answer has been sent to the caller: the caller's candidates that
   * came early are given to ICE now. Without this wait, ICE checks and the DTLS hello can reach
   * a caller before the answer does; browsers wait, but some callers fail the handshake.
   */
  answerDelivered(): void {
    if (this.#answerDelivered || this.#closing) return;
    this.#answerDelivered = true;
    if (this.#remoteDescriptionSet) this.#applyQueued();
  }

  #applyQueued(): void {
    const queued = this.#queuedCandidates;
    this.#queuedCandidates = [];
    for (const candidate of queued) this.#applyCandidate(candidate);
  }

  /** Closes after a failure inside `answer()`, which reports it by throwing, not by rejecting. */
  #abandon(error: TransportError, reason: TransportCloseReason): TransportError {
    this.#answerWaiter = undefined;
    this.close(reason);
    return error;
  }

  // Limitation: host-name candidates (mDNS `.local` ones from browsers that hide their IPs)
  // are refused rather than resolved; such callers still connect through the peer-reflexive
  // candidates their own checks create, as long as they receive ours.
  #applyCandidate(candidate: RemoteCandidate): RemoteCandidateOutcome {
    const pc = this.#pc;
    const offer = this.#offer;
    if (pc === undefined || offer === undefined || this.#closing) return 'skipped';
    if (!belongsToAudio(candidate, offer)) return 'skipped';
    if (!hasIpAddress(candidate)) return 'rejected';

    try {
      pc.addRemoteCandidate(candidate.candidate, offer.mid);
      return 'applied';
    } catch {
      // The library's parser is stricter than ours in places; a refused candidate is only lost.
      return 'rejected';
    }
  }

  #handleState(value: string): void {
    const state = parsePeerState(value);
    if (state === undefined) return;

    if (state === 'closed') {
      this.#connectionClosed = true;
      this.close('transport_closed');
      this.#releaseIfConfirmed();
      return;
    }
    if (this.#closing) return;

    this.#state = state;
    this.#onState(state);
    if (state === 'failed') this.close('ice_failed');
  }

  #handleGatheringState(value: string): void {
    if (this.#closing || value !== 'complete') return;
    const sdp = this.#pc?.localDescription()?.sdp ?? '';
    this.#batcher?.complete(sdp.match(/^a=candidate:/gm)?.length ?? 0);
  }

  #handleLocalDescription(sdp: string, type: string): void {
    if (this.#closing || type !== 'answer') return;
    const waiter = this.#answerWaiter;
    if (waiter === undefined) return;

    this.#answerWaiter = undefined;
    waiter.resolve({ sdp });
    this.#batcher?.release();
  }

  #handleLocalCandidate(candidate: string): void {
    if (this.#closing) return;
    this.#batcher?.add(candidate);
  }

  #handleTrackOpen(): void {
    if (this.#closing || this.#mediaOpen) return;
    this.#mediaOpen = true;
    this.#onMediaOpen();
  }

  #handleTrackClosed(): void {
    this.#trackClosed = true;
    this.#mediaOpen = false;
    this.close('transport_closed');
    this.#releaseIfConfirmed();
  }

  #handleTrackError(message: string): void {
    if (this.#closing) return;
    this.#failWith(nativeError(this.callId, 'on the audio track', message));
  }

  #handlePacket(packet: Buffer): void {
    if (this.#closing) return;
    const stats = this.#stats;
    const kind = classifyPacket(packet);
    if (kind === 'rtp' && rtpPayloadType(packet) === this.#payloadType) {
      stats.packetsIn += 1;
      stats.bytesIn += packet.length;
      this.#onRtp(packet);
    } else if (kind === 'rtcp') {
      stats.rtcpIn += 1;
    } else {
      stats.droppedIn += 1;
    }
  }

  #closeNative(): void {
    const pc = this.#pc;
    if (pc === undefined) return;

    // The track is closed by hand before the connection: if only the connection closes, the
    // library keeps the track's message callback registered, which holds this peer and keeps
    // the event loop referenced until the track object happens to be garbage-collected.
    try {
      this.#track?.close();
    } catch (error) {
      this.#report(nativeError(this.callId, 'closing the track', error));
    }
    try {
      pc.close();
    } catch (error) {
      this.#report(nativeError(this.callId, 'closing the connection', error));
    }
  }

  /** Resolves `released` once closed and, if a connection was made, once the library confirmed. */
  #releaseIfConfirmed(): void {
    if (this.#isReleased || !this.#closing) return;
    if (this.#pc !== undefined) {
      const trackDone = this.#track === undefined || this.#trackClosed;
      if (!this.#connectionClosed || !trackDone) return;
      notePeerConnectionReleased();
    }
    this.#isReleased = true;
    this.#pc = undefined;
    this.#track = undefined;
    this.#resolveReleased();
  }

  /** Wraps a callback so that anything it throws closes this peer with `transport_error`. */
  #guard<A extends unknown[]>(where: string, fn: (...args: A) => unknown): (...args: A) => void {
    return guardCallback(fn, (error) => this.#failWith(callbackError(this.callId, where, error)));
  }

  #failWith(error: TransportError): void {
    this.#report(error);
    this.close('transport_error');
  }

  #report(error: TransportError): void {
    const onError = this.#options.onError;
    if (onError === undefined) return;
    try {
      onError(error);
    } catch {
      // The error callback is the last place to report to; its own failure is dropped.
    }
  }
}

/** With BUNDLE every bundled m-line shares the audio transport; without it only audio's own do. */
function belongsToAudio(candidate: RemoteCandidate, offer: AudioOffer): boolean {
  const bundled = offer.bundleMids.includes(offer.mid);
  if (candidate.sdpMid !== undefined) {
    return (
      candidate.sdpMid === offer.mid || (bundled && offer.bundleMids.includes(candidate.sdpMid))
    );
  }
  if (candidate.sdpMLineIndex !== undefined) {
    return bundled || candidate.sdpMLineIndex === offer.mLineIndex;
  }
  return true;
}

function chooseSsrc(taken: readonly number[]): number {
  for (;;) {
    const ssrc = randomBytes(4).readUInt32BE(0);
    if (ssrc !== 0 && !taken.includes(ssrc)) return ssrc;
  }
}

function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

function callbackError(callId: string, where: string, error: unknown): TransportError {
  if (error instanceof TransportError) return error;
  return new TransportError(
    'callback_failed',
    `call ${callId}: ${where} threw: ${messageOf(error)}`,
    {
      cause: error,
    },
  );
}

function nativeError(callId: string, doing: string, error: unknown): TransportError {
  return new TransportError(
    'native_error',
    `call ${callId}: the library failed ${doing}: ${messageOf(error)}`,
    { cause: error },
  );
}
