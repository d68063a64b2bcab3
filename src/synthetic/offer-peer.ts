import type { PeerConnection as NativePeerConnection, Track } from 'node-datachannel';

import type { LocalCandidate } from '../transport/candidate-batcher.js';
import { guardCallback } from '../transport/native-callback.js';
import { Audio, PeerConnection } from '../transport/native-library.js';

/** How an offering peer is set up. */
export interface OfferPeerOptions {
  /** Names the connection in the library's logs. */
  name: string;
  /** The Opus payload type offered. */
  payloadType: number;
  /** The SSRC of the audio this peer sends. */
  ssrc: number;
  /** The audio m-line's mid. Default `audio0`. */
  mid?: string;
  /** The local address ICE binds to. Default 127.0.0.1; no ICE servers are ever used. */
  bindAddress?: string;
  /** Every RTP packet from the far end. */
  onRtp: (packet: Buffer) => void;
  /** Called once when the audio track opens (ICE and DTLS done). */
  onOpen: () => void;
  /** Called once when the connection fails or closes on its own. */
  onFailed: (reason: string) => void;
}

/**
 * The caller's WebRTC side of one call, a node-datachannel PeerConnection that makes the offer:
 * one audio track with Opus, send and receive, host candidates on loopback. Main thread only
 * (the library aborts a process that loads it in a second thread). Every native callback is
 * guarded: what a handler throws fails the call through `onFailed` instead of aborting.
 */
export class OfferPeer {
  readonly mid: string;
  /** The offer SDP, once the library made it. */
  readonly offer: Promise<string>;
  /** Local candidates gathered so far. */
  readonly localCandidates: LocalCandidate[] = [];
  /** Remote candidates handed to ICE. */
  remoteCandidatesApplied = 0;
  /** Remote candidates the library refused. */
  remoteCandidatesRejected = 0;
  /** True once gathering is complete. */
  gatheringComplete = false;

  readonly #pc: NativePeerConnection;
  readonly #track: Track;
  readonly #options: OfferPeerOptions;
  /** Remote candidates that came before the answer. */
  #pendingRemote: string[] = [];
  /** Waiters for the end of gathering. */
  #gathered: Array<() => void> = [];
  #answered = false;
  #open = false;
  #closed = false;

  constructor(options: OfferPeerOptions) {
    this.#options = options;
    this.mid = options.mid ?? 'audio0';
    const fail = (error: unknown): void => this.#fail(`callback failed: ${String(error)}`);
    const guard = <A extends unknown[]>(fn: (...args: A) => unknown) => guardCallback(fn, fail);

    this.#pc = new PeerConnection(options.name, {
      iceServers: [],
      bindAddress: options.bindAddress ?? '127.0.0.1',
    });
    const audio = new Audio(this.mid, 'SendRecv');
    audio.addOpusCodec(options.payloadType);
    audio.addSSRC(options.ssrc, `${options.name}-cname`, `${options.name}-stream`, 'audio');
    this.#track = this.#pc.addTrack(audio);

    this.#track.onOpen(
      guard(() => {
        if (this.#closed || this.#open) return;
        this.#open = true;
        options.onOpen();
      }),
    );
    this.#track.onMessage(
      guard((message: Buffer) => {
        if (!this.#closed) options.onRtp(message);
      }),
    );
    this.#track.onClosed(guard(() => this.#fail('track_closed')));
    this.#pc.onStateChange(
      guard((state: string) => {
        if (state === 'failed' || state === 'closed') this.#fail(`ice_${state}`);
      }),
    );
    this.#pc.onGatheringStateChange(
      guard((state: string) => {
        if (state !== 'complete') return;
        this.gatheringComplete = true;
        for (const resolve of this.#gathered.splice(0)) resolve();
      }),
    );
    this.#pc.onLocalCandidate(
      guard((candidate: string, sdpMid: string) => {
        const line = candidate.startsWith('a=') ? candidate.slice(2) : candidate;
        this.localCandidates.push({ candidate: line, sdpMid, sdpMLineIndex: 0 });
      }),
    );
    this.offer = new Promise((resolve) => {
      this.#pc.onLocalDescription(
        guard((sdp: string, type: string) => {
          if (type === 'offer') resolve(sdp);
        }),
      );
    });
    this.#pc.setLocalDescription();
  }

  /** True while the audio track is open and the peer not closed: sending is safe. */
  get open(): boolean {
    return this.#open && !this.#closed;
  }

  /**
   * Resolves once gathering is complete or `timeoutMs` has passed, whichever is first.
   * Candidates and the gathering state come through separate native queues, so the last
   * candidates may land a moment after `complete`: one turn of the event loop is given.
   */
  async gathered(timeoutMs: number): Promise<void> {
    if (!this.gatheringComplete) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.#gathered.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** Sets the callee's answer, then the callee's candidates that came before it. */
  acceptAnswer(sdp: string): void {
    if (this.#closed) return;
    this.#pc.setRemoteDescription(sdp, 'answer');
    this.#answered = true;
    for (const candidate of this.#pendingRemote.splice(0)) this.#apply(candidate);
  }

  /** Takes the callee's candidates; end-of-candidates (an empty string) never reaches ICE. */
  addRemoteCandidates(batch: ReadonlyArray<{ candidate?: unknown }>): void {
    for (const entry of batch) {
      const candidate = entry.candidate;
      if (typeof candidate !== 'string' || candidate === '') continue;
      if (this.#answered) this.#apply(candidate);
      else this.#pendingRemote.push(candidate);
    }
  }

  /** Sends one RTP packet if the track is open; a send on a closing track would abort. */
  send(packet: Buffer): boolean {
    if (!this.open) return false;
    try {
      return this.#track.isOpen() && this.#track.sendMessageBinary(packet);
    } catch (error) {
      this.#fail(`send failed: ${String(error)}`);
      return false;
    }
  }

  /** Closes the track, then the connection; later calls do nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#open = false;
    for (const resolve of this.#gathered.splice(0)) resolve();
    try {
      this.#track.close();
    } catch {
      // Already closed by the library.
    }
    try {
      this.#pc.close();
    } catch {
      // Already closed by the library.
    }
  }

  #apply(candidate: string): void {
    try {
      this.#pc.addRemoteCandidate(candidate, this.mid);
      this.remoteCandidatesApplied += 1;
    } catch {
      this.remoteCandidatesRejected += 1;
    }
  }

  #fail(reason: string): void {
    if (this.#closed) return;
    this.close();
    try {
      this.#options.onFailed(reason);
    } catch {
      // The owner's failure handler is the last place to report to.
    }
  }
}
