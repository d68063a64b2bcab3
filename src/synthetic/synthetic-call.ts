import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import type { CallerAccount, ReceivedCallEvent } from './caller-account.js';
import type { CallEndReason, CallReport } from './call-report.js';
import type { MediaTicker } from './media-ticker.js';
import { OfferPeer } from './offer-peer.js';
import { RtpReceiveStats } from './rtp-receive-stats.js';
import { SineSource } from './sine-source.js';

/** How one synthetic call runs. */
export interface SyntheticCallOptions {
  /** The call id (callers choose their own); unique per caller. */
  callId: string;
  /** How long the call stays up after it is answered before the caller hangs up, ms. */
  holdMs: number;
  /** How long to wait for the answer, ms. Default 10 s. */
  answerTimeoutMs?: number;
  /** How long after the answer the audio may take to flow both ways, ms. Default 10 s. */
  mediaTimeoutMs?: number;
  /** The invite's `lifetime`, ms. Default 60 s. */
  lifetimeMs?: number;
  /**
   * Send this caller's candidates as soon as they are gathered, before the answer comes. By
   * default they go once the answer is in, or 2 s after the invite if that is sooner (the
   * delay MSC2746 recommends to callers): a node-datachannel caller whose candidates reach
   * the bridge before the answer reaches it can have its DTLS handshake fail (the bridge's
   * DTLS hello arrives first), which a browser survives.
   */
  candidatesBeforeAnswer?: boolean;
  /** Told when the answer is in, and when the first audio came back. */
  onProgress?: (stage: 'answered' | 'media') => void;
}

/** The Opus payload type the synthetic caller offers. */
const PAYLOAD_TYPE = 111;
/** How long the caller lets ICE gather before it sends its candidates, at most. */
const GATHER_WAIT_MS = 500;
/** The longest a caller holds its candidates back waiting for the answer (MSC2746), ms. */
const CANDIDATE_DELAY_MS = 2_000;
/** Frames sent at once at most when the process fell behind (a stalled loop sends a burst). */
const MAX_CATCH_UP_FRAMES = 10;
/** Milliseconds per frame. */
const FRAME_MS = 20;

/**
 * One call placed by a synthetic caller, as a Matrix VoIP (version 1) caller does it: a real
 * WebRTC offer (node-datachannel), `m.call.invite`, then its candidates; on `m.call.answer` the
 * answer is set, `m.call.select_answer` sent and the bridge's candidates given to ICE; once the
 * audio track opens, a sine goes out as 20 ms Opus frames and what comes back is counted; after
 * `holdMs` it sends `m.call.hangup`. Every event travels encrypted. `run` never throws: every
 * failure ends up in the report.
 */
export class SyntheticCall {
  readonly #account: CallerAccount;
  readonly #roomId: string;
  readonly #ticker: MediaTicker;
  readonly #options: Required<SyntheticCallOptions>;
  readonly #partyId = randomBytes(6).toString('hex');
  readonly #received = new RtpReceiveStats();
  #source: SineSource | undefined;
  #peer: OfferPeer | undefined;
  /** Resolves `#ended` with the reason; the first call wins. */
  #finish: (reason: CallEndReason, detail?: string) => void = () => undefined;
  readonly #ended: Promise<{ reason: CallEndReason; detail: string | undefined }>;
  #endReason: CallEndReason | undefined;
  #remoteReason: string | undefined;
  // Timings, as performance.now() values.
  /** When the call was placed: the invite about to be encrypted. */
  #placedAt = 0;
  /** When the encrypted invite was handed to the homeserver. */
  #inviteAt = 0;
  #inviteSentAt: number | undefined;
  #answerAt: number | undefined;
  #answerSyncedAt: number | undefined;
  #connectedAt: number | undefined;
  #firstMediaAt: number | undefined;
  #remoteCandidatesAt: number | undefined;
  #remoteCandidates = 0;
  #inviteEncryptMs: number | undefined;
  #inviteSendMs: number | undefined;
  #candidatesSendMs: number | undefined;
  /** When media sending started, for the count of frames due. */
  #mediaStart = 0;
  /** Frames due but skipped because the process fell too far behind. */
  #skipped = 0;
  /** The answer deadline, cleared once the answer is in. */
  #answerTimer: NodeJS.Timeout | undefined;
  /** Told once the answer is in. */
  readonly #onAnswered: Array<() => void> = [];
  /** Timers to clear when the call ends. */
  readonly #timers: NodeJS.Timeout[] = [];

  constructor(
    account: CallerAccount,
    roomId: string,
    ticker: MediaTicker,
    options: SyntheticCallOptions,
  ) {
    this.#account = account;
    this.#roomId = roomId;
    this.#ticker = ticker;
    this.#options = {
      answerTimeoutMs: 10_000,
      mediaTimeoutMs: 10_000,
      lifetimeMs: 60_000,
      candidatesBeforeAnswer: false,
      onProgress: () => undefined,
      ...options,
    };
    this.#ended = new Promise((resolve) => {
      this.#finish = (reason, detail) => {
        if (this.#endReason !== undefined) return;
        this.#endReason = reason;
        resolve({ reason, detail });
      };
    });
  }

  get callId(): string {
    return this.#options.callId;
  }

  /** Ends the call early with a hangup (end reason `stopped`); does nothing once it ended. */
  stop(): void {
    this.#finish('stopped');
  }

  /** Places the call, holds it, hangs up; resolves with what it measured. */
  async run(): Promise<CallReport> {
    const { callId } = this.#options;
    const startedAt = Date.now();
    const unsubscribe = this.#account.onCall(callId, (event) => this.#onEvent(event));
    let removeSender: (() => void) | undefined;
    let failure: string | undefined;
    let reason: CallEndReason;
    try {
      const ssrc = randomBytes(4).readUInt32BE(0) || 1;
      this.#source = new SineSource({ payloadType: PAYLOAD_TYPE, ssrc });
      const peer = new OfferPeer({
        name: callId,
        payloadType: PAYLOAD_TYPE,
        ssrc,
        onRtp: (packet) => this.#onRtp(packet),
        onOpen: () => this.#onOpen(),
        onFailed: (why) => this.#finish('transport_failed', why),
      });
      this.#peer = peer;
      const offer = await peer.offer;

      this.#placedAt = performance.now();
      this.#answerTimer = setTimeout(
        () => this.#finish('answer_timeout', `no answer in ${this.#options.answerTimeoutMs} ms`),
        this.#options.answerTimeoutMs,
      );
      this.#timers.push(this.#answerTimer);
      const invite = await this.#account.sendEncrypted(
        this.#roomId,
        'm.call.invite',
        {
          ...this.#envelope(),
          lifetime: this.#options.lifetimeMs,
          offer: { type: 'offer', sdp: offer },
        },
        () => {
          this.#inviteAt = performance.now();
          this.#inviteSentAt = Date.now();
        },
      );
      this.#inviteEncryptMs = invite.encryptMs;
      this.#inviteSendMs = invite.sendMs;
      void this.#sendCandidates(peer);

      removeSender = this.#ticker.add((now) => this.#sendDue(now));
      const ended = await this.#ended;
      reason = ended.reason;
      failure = ended.detail;
    } catch (error) {
      this.#finish('error', String(error));
      reason = 'error';
      failure = String(error);
    } finally {
      for (const timer of this.#timers) clearTimeout(timer);
      removeSender?.();
    }

    // The caller hangs up unless the bridge ended the call or refused it.
    if (reason !== 'bridge_hangup' && reason !== 'rejected' && this.#placedAt > 0) {
      try {
        await this.#account.sendEncrypted(this.#roomId, 'm.call.hangup', {
          ...this.#envelope(),
          reason:
            reason === 'caller_hangup' || reason === 'stopped'
              ? 'user_hangup'
              : failureHangup(reason),
        });
      } catch (error) {
        failure ??= `hangup not sent: ${String(error)}`;
      }
    }
    this.#peer?.close();
    unsubscribe();
    return this.#report(startedAt, reason, failure);
  }

  #envelope(): Record<string, unknown> {
    return { call_id: this.#options.callId, party_id: this.#partyId, version: '1' };
  }

  async #sendCandidates(peer: OfferPeer): Promise<void> {
    await peer.gathered(GATHER_WAIT_MS);
    if (!this.#options.candidatesBeforeAnswer) await this.#answeredOr(CANDIDATE_DELAY_MS);
    if (this.#endReason !== undefined) return;
    const candidates = [
      ...peer.localCandidates,
      { candidate: '', sdpMid: peer.mid, sdpMLineIndex: 0 },
    ];
    try {
      const sent = await this.#account.sendEncrypted(this.#roomId, 'm.call.candidates', {
        ...this.#envelope(),
        candidates,
      });
      this.#candidatesSendMs = sent.encryptMs + sent.sendMs;
    } catch (error) {
      this.#finish('error', `candidates not sent: ${String(error)}`);
    }
  }

  /** Resolves once the answer is in, the call ended, or `ms` passed. */
  #answeredOr(ms: number): Promise<void> {
    if (this.#answerAt !== undefined || this.#endReason !== undefined) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#onAnswered.push(() => {
        clearTimeout(timer);
        resolve();
      });
      void this.#ended.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #onEvent(event: ReceivedCallEvent): void {
    if (this.#endReason !== undefined) return;
    const { content } = event;
    switch (event.type) {
      case 'm.call.answer': {
        if (this.#answerAt !== undefined) return;
        const answer = content.answer as { sdp?: unknown } | undefined;
        if (typeof answer?.sdp !== 'string') {
          this.#finish('error', 'answer without an SDP');
          return;
        }
        this.#answerAt = event.at;
        this.#answerSyncedAt = event.syncedAt;
        clearTimeout(this.#answerTimer);
        this.#progress('answered');
        for (const resolve of this.#onAnswered.splice(0)) resolve();
        try {
          this.#peer?.acceptAnswer(answer.sdp);
        } catch (error) {
          this.#finish('error', `answer refused by the library: ${String(error)}`);
          return;
        }
        void this.#account
          .sendEncrypted(this.#roomId, 'm.call.select_answer', {
            ...this.#envelope(),
            selected_party_id: content.party_id,
          })
          .catch((error: unknown) => this.#finish('error', `select_answer: ${String(error)}`));
        const { mediaTimeoutMs, holdMs } = this.#options;
        this.#timers.push(
          setTimeout(() => {
            if (this.#firstMediaAt === undefined) {
              this.#finish(
                'media_timeout',
                `no audio back within ${mediaTimeoutMs} ms of the answer`,
              );
            }
          }, mediaTimeoutMs),
          setTimeout(() => this.#finish('caller_hangup'), holdMs),
        );
        return;
      }
      case 'm.call.candidates': {
        const batch = Array.isArray(content.candidates) ? content.candidates : [];
        this.#remoteCandidatesAt ??= event.at;
        for (const entry of batch as Array<{ candidate?: unknown }>) {
          if (typeof entry?.candidate === 'string' && entry.candidate !== '') {
            this.#remoteCandidates += 1;
          }
        }
        this.#peer?.addRemoteCandidates(batch as Array<{ candidate?: unknown }>);
        return;
      }
      case 'm.call.hangup':
        this.#remoteReason = reasonOf(content);
        this.#finish('bridge_hangup', `the bridge hung up: ${this.#remoteReason}`);
        return;
      case 'm.call.reject':
        this.#remoteReason = reasonOf(content);
        this.#finish('rejected', `the bridge refused the call: ${this.#remoteReason}`);
        return;
      default:
        return;
    }
  }

  #onOpen(): void {
    this.#connectedAt = performance.now();
    this.#mediaStart = this.#connectedAt;
  }

  #onRtp(packet: Buffer): void {
    if (this.#firstMediaAt === undefined) {
      this.#firstMediaAt = performance.now();
      this.#progress('media');
    }
    this.#received.record(packet);
  }

  #progress(stage: 'answered' | 'media'): void {
    try {
      this.#options.onProgress(stage);
    } catch {
      // A listener's failure is not the call's.
    }
  }

  /** Sends every frame due since the track opened, and no more than a short burst at once. */
  #sendDue(now: number): void {
    const peer = this.#peer;
    const source = this.#source;
    if (peer === undefined || source === undefined || !peer.open) return;
    const due = Math.floor((now - this.#mediaStart) / FRAME_MS) + 1 - this.#skipped;
    let behind = due - source.sent;
    if (behind > MAX_CATCH_UP_FRAMES) {
      this.#skipped += behind - MAX_CATCH_UP_FRAMES;
      behind = MAX_CATCH_UP_FRAMES;
    }
    for (let i = 0; i < behind; i++) peer.send(source.next());
  }

  #report(startedAt: number, reason: CallEndReason, failure: string | undefined): CallReport {
    const peer = this.#peer;
    const since = (at: number | undefined, from: number | undefined): number | undefined =>
      at === undefined || from === undefined || from === 0 ? undefined : at - from;
    const inviteToAnswerMs = since(this.#answerSyncedAt, this.#inviteAt);
    const ok =
      reason === 'caller_hangup' && inviteToAnswerMs !== undefined && this.#received.received > 0;
    return {
      callId: this.#options.callId,
      userId: this.#account.userId,
      roomId: this.#roomId,
      ok,
      endReason: reason,
      remoteReason: this.#remoteReason,
      failure: ok ? undefined : (failure ?? failureText(reason, this.#received.received)),
      startedAt,
      inviteSentAt: this.#inviteSentAt,
      inviteToAnswerMs,
      placedToAnswerMs: since(this.#answerAt, this.#placedAt),
      inviteToFirstMediaMs: since(this.#firstMediaAt, this.#inviteAt),
      inviteEncryptMs: this.#inviteEncryptMs,
      inviteSendMs: this.#inviteSendMs,
      answerDecryptMs: since(this.#answerAt, this.#answerSyncedAt),
      ice: {
        localCandidates: peer?.localCandidates.length ?? 0,
        remoteCandidates: this.#remoteCandidates,
        remoteCandidatesApplied: peer?.remoteCandidatesApplied ?? 0,
        remoteCandidatesRejected: peer?.remoteCandidatesRejected ?? 0,
        inviteToRemoteCandidatesMs: since(this.#remoteCandidatesAt, this.#inviteAt),
        answerToConnectedMs: since(this.#connectedAt, this.#answerAt),
        candidatesSendMs: this.#candidatesSendMs,
      },
      packets: {
        sent: this.#source?.sent ?? 0,
        received: this.#received.received,
        expected: this.#received.expected,
        lost: this.#received.lost,
      },
      durationMs: this.#placedAt === 0 ? 0 : performance.now() - this.#placedAt,
    };
  }
}

/** The bridge's precise reason, else the spec reason, else `user_hangup` (the spec default). */
function reasonOf(content: Record<string, unknown>): string {
  const own = content['org.voicebridge.reason'];
  if (typeof own === 'string') return own;
  return typeof content.reason === 'string' ? content.reason : 'user_hangup';
}

/** The spec hangup reason a caller gives when it gives up on a call. */
function failureHangup(reason: CallEndReason): string {
  switch (reason) {
    case 'answer_timeout':
      return 'invite_timeout';
    case 'media_timeout':
    case 'transport_failed':
      return 'ice_failed';
    default:
      return 'unknown_error';
  }
}

/** What went wrong when the ending itself says nothing more. */
function failureText(reason: CallEndReason, received: number): string {
  if (reason === 'caller_hangup' && received === 0) return 'no audio came back from the bridge';
  return reason;
}
