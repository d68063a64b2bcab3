import type { AuditRecord } from '../audit/audit-record.js';
import type { BudgetOverrides } from '../budget/budget-tracker.js';
import type { MediaConfig } from '../config/types.js';
import type { CallSession } from '../engine/call-session.js';
import type { MediaEngine } from '../engine/media-engine.js';
import type { MediaLeg } from '../engine/media-leg.js';
import { auditStateOf, type StopReason } from '../engine/stop-reason.js';
import type { DenialReason } from '../policy/denial.js';
import type { CallContext } from '../policy/security-enforcer.js';
import {
  CallPeer,
  TransportError,
  type LocalCandidate,
  type RemoteCandidateOutcome,
} from '../transport/index.js';
import type { PolicyCore } from './policy-core.js';

/** How the bridge talks back to a caller; the Matrix layer implements it. */
export interface CallSignals {
  /** Sends the SDP answer. */
  answer(sdp: string): void;
  /** Sends a batch of local candidates (the last batch ends with an empty candidate). */
  candidates(batch: LocalCandidate[]): void;
  /**
   * Tells the caller the bridge ended the call. Called after the call's audit record is
   * committed; `reason` is the precise reason, for a namespaced field of the hangup.
   */
  hangup(reason: string, record: AuditRecord): void;
}

/** A call that wants to be answered. */
export interface IncomingCall {
  context: CallContext;
  offerSdp: string;
  signals: CallSignals;
  overrides?: BudgetOverrides;
}

/**
 * How long a call whose caller closed the connection waits for the caller's hangup before it
 * ends as a transport failure. A browser closes its connection as it sends its hangup, and
 * the hangup reaches the bridge later, through the homeserver.
 */
export const HANGUP_GRACE_MS = 5_000;

/** Why a call was not answered: a policy denial, or an offer the bridge cannot answer. */
export type RefusalReason =
  | DenialReason
  | 'invalid_offer'
  | 'media_unavailable'
  | 'transport_failed';

/** The outcome of `accept`. */
export type AcceptResult =
  | { accepted: true; call: HostedCall }
  | { accepted: false; reason: RefusalReason; record: AuditRecord };

/** How a hosted call's end came about. */
type Ending = { reason: string; byBridge: boolean; state: 'ended' | 'failed' };

/** One answered call: its slot, its WebRTC peer and its media leg. */
export class HostedCall {
  readonly session: CallSession;
  readonly peer: CallPeer;
  /** Set once the media leg is open. */
  leg: MediaLeg | undefined;
  /** Settles with the audit record once the call has ended; set by the first end. */
  ended: Promise<AuditRecord> | undefined;

  constructor(session: CallSession, peer: CallPeer) {
    this.session = session;
    this.peer = peer;
  }

  get callId(): string {
    return this.session.callId;
  }

  /** Passes a candidate from the caller to ICE (invalid ones throw TransportError). */
  addRemoteCandidate(candidate: unknown): RemoteCandidateOutcome {
    return this.peer.addRemoteCandidate(candidate);
  }
}

/**
 * Answers calls: admission through the policy core, a WebRTC peer per call, the call's media
 * on the engine, and one way out for every ending (the caller's hangup, a limit, a failed
 * worker or transport, shutdown) that frees everything once and commits the audit record
 * before the caller is told.
 */
export class CallHost {
  readonly #core: PolicyCore;
  readonly #engine: MediaEngine;
  readonly #media: MediaConfig;
  /** Live calls by call id. */
  readonly #calls = new Map<string, HostedCall>();
  /** Signals of each live call, to send the hangup. */
  readonly #signals = new Map<string, CallSignals>();

  /** ICE servers for a call starting now: the configured ones, or the homeserver's. */
  readonly #iceServers: () => string[];
  /** How long a closed connection waits for the caller's hangup; see HANGUP_GRACE_MS. */
  readonly #hangupGraceMs: number;

  constructor(
    core: PolicyCore,
    engine: MediaEngine,
    media: MediaConfig,
    iceServers: () => string[] = () => media.ice_servers,
    hangupGraceMs = HANGUP_GRACE_MS,
  ) {
    this.#core = core;
    this.#engine = engine;
    this.#media = media;
    this.#iceServers = iceServers;
    this.#hangupGraceMs = hangupGraceMs;
    core.sessions.onStop((session, reason) => {
      const call = this.#calls.get(session.callId);
      if (call?.session === session) {
        void this.#end(call, { reason, byBridge: true, state: auditStateOf(reason) });
      }
    });
  }

  /** Calls being hosted now. */
  get liveCalls(): number {
    return this.#calls.size;
  }

  /** The live call with this id, if any. */
  find(callId: string): HostedCall | undefined {
    return this.#calls.get(callId);
  }

  /** Admits and answers a call, or refuses it with a committed audit record. */
  async accept(incoming: IncomingCall): Promise<AcceptResult> {
    const { gate } = this.#core;
    const started = gate.start(incoming.context, incoming.overrides);
    if (!started.admitted)
      return { accepted: false, reason: started.reason, record: started.record };

    const { session } = started;
    // The peer's callbacks need the call, which needs the peer: they reach it through here.
    const ref: { call?: HostedCall } = {};
    let peer: CallPeer;
    try {
      peer = new CallPeer({
        callId: session.callId,
        bindAddress: this.#media.bind_address,
        portRangeBegin: this.#media.port_range_begin || undefined,
        portRangeEnd: this.#media.port_range_end || undefined,
        iceServers: this.#iceServers(),
        waitForAnswerDelivery: true,
        onLocalCandidates: (batch) => incoming.signals.candidates(batch),
        onRtp: (packet) => ref.call?.leg?.receive(packet),
        // Our own close comes back here too; by then the call is already ending.
        onClosed: (reason) => {
          const call = ref.call;
          if (call === undefined || call.ended !== undefined) return;
          const fail = (): void => {
            void this.#end(call, { reason: 'transport_failed', byBridge: true, state: 'failed' });
          };
          // Closed by the caller: its hangup may be on its way. A failed ICE check is not.
          if (reason !== 'transport_closed') return fail();
          setTimeout(fail, this.#hangupGraceMs).unref();
        },
      });
    } catch (error) {
      // Only a bad media setting can make this throw; start-up checks the bind address.
      const ended = gate.end(session, { reason: 'media_unavailable', state: 'failed' });
      if (ended === undefined) throw error;
      return { accepted: false, reason: 'media_unavailable', record: ended.record };
    }
    const call = new HostedCall(session, peer);
    ref.call = call;
    this.#calls.set(session.callId, call);
    this.#signals.set(session.callId, incoming.signals);

    let answerSdp: string;
    try {
      ({ sdp: answerSdp } = await peer.answer(incoming.offerSdp));
      call.leg = await this.#engine.open(session, peer);
    } catch (error) {
      const invalid = error instanceof TransportError && error.code === 'invalid_sdp';
      const reason: RefusalReason = invalid ? 'invalid_offer' : 'media_unavailable';
      const record = await this.#end(call, { reason, byBridge: false, state: 'failed' });
      return { accepted: false, reason, record };
    }
    if (call.ended !== undefined) {
      // The call ended (a limit, the transport) while it was being answered: the refusal says
      // what the record says.
      const record = await call.ended;
      const reason =
        record.end_reason === 'transport_failed' ? 'transport_failed' : 'media_unavailable';
      return { accepted: false, reason, record };
    }
    incoming.signals.answer(answerSdp);
    peer.answerDelivered();
    return { accepted: true, call };
  }

  /** The caller hung up or rejected: end the call without telling the caller again. */
  hangupByCaller(callId: string, reason = 'caller_hangup'): Promise<AuditRecord | undefined> {
    const call = this.#calls.get(callId);
    if (call === undefined) return Promise.resolve(undefined);
    return this.#end(call, { reason, byBridge: false, state: 'ended' });
  }

  /** The bridge ends a call for `reason` (an unsupported renegotiation, say), telling the caller. */
  hangupByBridge(callId: string, reason: string): Promise<AuditRecord | undefined> {
    const call = this.#calls.get(callId);
    if (call === undefined) return Promise.resolve(undefined);
    return this.#end(call, { reason, byBridge: true, state: 'ended' });
  }

  /** Ends every live call with `reason`, telling each caller. */
  async shutdown(reason: StopReason = 'shutdown'): Promise<void> {
    await Promise.all(
      [...this.#calls.values()].map((call) =>
        this.#end(call, { reason, byBridge: true, state: 'ended' }),
      ),
    );
  }

  /** The one way out: runs once per call, whoever asks first. */
  #end(call: HostedCall, ending: Ending): Promise<AuditRecord> {
    if (call.ended !== undefined) return call.ended;
    // Set before any step runs: the steps themselves call back here (our own stop and close
    // are heard as stop and close events), and must find the call already ending.
    let finish: (() => void) | undefined;
    call.ended = new Promise<void>((resolve) => (finish = resolve)).then(() =>
      this.#finish(call, ending),
    );
    // Callers that fire and forget (stop and close listeners) must not leave a rejection loose.
    call.ended.catch(() => undefined);
    finish?.();
    return call.ended;
  }

  async #finish(call: HostedCall, ending: Ending): Promise<AuditRecord> {
    const { callId, session } = call;
    // Raising the stop flag first makes the media worker stop ticking the call at once.
    this.#core.sessions.stop(session, stopReasonFor(ending.reason));
    call.peer.close(ending.reason);
    await this.#engine.close(callId, ending.reason);
    // The first stop wins: a limit the media worker raised before this ending is the reason.
    const slotReason = session.stopReason;
    const limitWon =
      slotReason !== undefined &&
      slotReason !== stopReasonFor(ending.reason) &&
      slotReason !== 'caller_hangup';
    const reason = limitWon ? slotReason : ending.reason;
    const state = limitWon ? auditStateOf(slotReason) : ending.state;
    const result = this.#core.gate.end(session, { reason, state });
    this.#calls.delete(callId);
    const signals = this.#signals.get(callId);
    this.#signals.delete(callId);
    // Only the host ends its sessions, and each once: the gate always has this one.
    if (result === undefined) throw new Error(`call ${callId} was ended outside its host`);
    if (ending.byBridge) {
      try {
        signals?.hangup(reason, result.record);
      } catch {
        // The record is committed and everything is freed; a failed hangup cannot undo that.
      }
    }
    return result.record;
  }
}

/** The slot's stop reason for an ending; reasons the slot has no code for read as the caller's. */
function stopReasonFor(reason: string): StopReason {
  switch (reason) {
    case 'budget_exceeded':
    case 'duration_exceeded':
    case 'ttl_expired':
    case 'max_ttl_exceeded':
    case 'max_call_duration_exceeded':
    case 'media_worker_failed':
    case 'agent_hangup':
    case 'agent_error':
    case 'shutdown':
    case 'transport_failed':
    case 'answered_elsewhere':
      return reason;
    default:
      return 'caller_hangup';
  }
}
