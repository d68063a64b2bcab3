import type { AuditRecord } from '../../audit/audit-record.js';
import type { CallHost, CallSignals } from '../../calls/call-host.js';
import type { Clock } from '../../clock.js';
import type { LocalCandidate } from '../../transport/index.js';
import { CallEventError, isCallEventType, parseCallEvent, type CallEvent } from './call-events.js';
import { REASON_FIELD, specReasonOf } from './spec-reason.js';

/** A call event as it arrived in a room, decrypted if it was encrypted. */
export interface RoomCallEvent {
  roomId: string;
  type: string;
  sender: string;
  eventId: string;
  content: unknown;
  /** Milliseconds the event had existed when sync delivered it (`unsigned.age`). */
  age: number;
  /** True when it arrived end-to-end encrypted. */
  encrypted: boolean;
}

/** What the signaling layer reports; one stable `event` name per kind. */
export type SignalingLog = (
  event: string,
  fields: Record<string, string | number | boolean>,
) => void;

/** Settings of the call signaling. */
export interface CallSignalingOptions {
  host: CallHost;
  /** The bot's user id and this device's party id. */
  userId: string;
  partyId: string;
  /** Sends a room event (encrypting it when the room is encrypted); resolves once sent. */
  send: (roomId: string, type: string, content: Record<string, unknown>) => Promise<void>;
  /** True when the link to the homeserver is TLS. */
  signalingTls: boolean;
  /** Joined members of a room, when known (group rooms follow `voice.group_calls`). */
  roomMembers?: (roomId: string) => number | undefined;
  clock: Clock;
  log: SignalingLog;
}

/** A call the bridge knows of. */
interface KnownCall {
  roomId: string;
  caller: string;
  callerParty: string | undefined;
  version: 0 | 1;
  /** Set once the host has answered. */
  answered: boolean;
  ended: boolean;
  /** When the call ended, for forgetting it once it can no longer matter. */
  endedAt: number | undefined;
}

/** How long candidates may wait for their invite, and how many are kept. */
const EARLY_CANDIDATES_MS = 120_000;
const EARLY_CANDIDATES_MAX = 200;
const EARLY_CALLS_MAX = 1_000;
/**
 * Ended calls are remembered for this long (so that their late events are ignored, and a
 * replayed invite is not answered twice), and at most this many calls in all.
 */
const ENDED_CALLS_KEPT_MS = 10 * 60_000;
const KNOWN_CALLS_MAX = 10_000;
/** Event ids are remembered this long to drop duplicates, and at most this many. */
const SEEN_EVENTS_KEPT_MS = 10 * 60_000;
const SEEN_EVENTS_MAX = 10_000;
/** Invites this close to their expiry are treated as expired, as common clients do. */
const INVITE_GRACE_MS = 3_000;

/**
 * Matrix VoIP (spec version 1, and version 0 peers) for a callee that is a bot: takes each call
 * event from the rooms, checks that it comes from the caller of that call in that call's room,
 * drops duplicates and stale invites, holds candidates that come before their invite, and turns
 * what is left into the host's accept and hangups, sending answers, candidates, rejects and
 * hangups back. The bridge's precise end reason rides in its own field next to the spec's.
 */
export class CallSignaling {
  readonly #options: CallSignalingOptions;
  /** Calls by call id. */
  readonly #calls = new Map<string, KnownCall>();
  /** Candidates that came before their invite, by call id. */
  readonly #early = new Map<
    string,
    { sender: string; roomId: string; at: number; events: CallEvent[] }
  >();
  /** Recent event ids with when they were seen, oldest first. */
  readonly #seen = new Map<string, number>();

  constructor(options: CallSignalingOptions) {
    this.#options = options;
  }

  /** Calls known and not yet ended. */
  get liveCalls(): number {
    let live = 0;
    for (const call of this.#calls.values()) if (!call.ended) live += 1;
    return live;
  }

  /** Handles one room event; events that are not call events are ignored. */
  async handle(event: RoomCallEvent): Promise<void> {
    if (!isCallEventType(event.type) || event.sender === this.#options.userId) return;
    if (this.#isDuplicate(event.eventId)) return;

    let parsed: CallEvent;
    try {
      parsed = parseCallEvent(event.type, event.content);
    } catch (error) {
      if (!(error instanceof CallEventError)) throw error;
      this.#log('call_event_invalid', event, { error: error.message });
      return;
    }

    if (parsed.type === 'm.call.invite') return this.#invite(event, parsed);
    const call = this.#calls.get(parsed.callId);
    if (call === undefined) {
      if (parsed.type === 'm.call.candidates') this.#holdEarly(event, parsed);
      return;
    }
    if (event.sender !== call.caller || event.roomId !== call.roomId) {
      this.#log('call_event_from_stranger', event, { call_id: parsed.callId });
      return;
    }
    if (
      call.callerParty !== undefined &&
      parsed.partyId !== undefined &&
      parsed.partyId !== call.callerParty
    ) {
      this.#log('call_event_other_party', event, { call_id: parsed.callId });
      return;
    }
    await this.#follow(call, parsed);
  }

  async #invite(
    event: RoomCallEvent,
    invite: Extract<CallEvent, { type: 'm.call.invite' }>,
  ): Promise<void> {
    const { host, userId } = this.#options;
    if (invite.invitee !== undefined && invite.invitee !== userId) return;
    if (this.#calls.has(invite.callId)) return;
    if (event.age >= invite.lifetime - INVITE_GRACE_MS) {
      this.#log('call_invite_stale', event, {
        call_id: invite.callId,
        age_ms: event.age,
        lifetime_ms: invite.lifetime,
      });
      return;
    }

    const call: KnownCall = {
      roomId: event.roomId,
      caller: event.sender,
      callerParty: invite.partyId,
      version: invite.version,
      answered: false,
      ended: false,
      endedAt: undefined,
    };
    this.#calls.set(invite.callId, call);
    this.#forgetOldCalls();
    const result = await host.accept({
      context: {
        callId: invite.callId,
        userId: event.sender,
        roomId: event.roomId,
        signalingEncrypted: event.encrypted,
        signalingTls: this.#options.signalingTls,
        roomMembers: this.#options.roomMembers?.(event.roomId),
      },
      offerSdp: invite.offerSdp,
      signals: this.#signalsFor(invite.callId, call),
    });

    if (!result.accepted) {
      this.#end(call);
      this.#log('call_refused', event, { call_id: invite.callId, reason: result.reason });
      await this.#refuse(invite.callId, call, result.reason);
      return;
    }
    call.answered = true;
    this.#log('call_answered', event, { call_id: invite.callId });

    const early = this.#early.get(invite.callId);
    this.#early.delete(invite.callId);
    if (early !== undefined && early.sender === call.caller && early.roomId === call.roomId) {
      for (const held of early.events) await this.#follow(call, held);
    }
  }

  async #follow(call: KnownCall, event: CallEvent): Promise<void> {
    const { host } = this.#options;
    if (call.ended) return;
    const callId = event.callId;
    switch (event.type) {
      case 'm.call.candidates': {
        const hosted = host.find(callId);
        for (const candidate of event.candidates) {
          try {
            hosted?.addRemoteCandidate(candidate);
          } catch {
            // A malformed candidate is one candidate lost, not a failed call.
          }
        }
        return;
      }
      case 'm.call.hangup':
      case 'm.call.reject':
        this.#end(call);
        await host.hangupByCaller(
          callId,
          event.type === 'm.call.reject' ? 'caller_rejected' : callerHangupReason(event.reason),
        );
        return;
      case 'm.call.select_answer':
        if (event.selectedPartyId !== this.#options.partyId) {
          this.#end(call);
          await host.hangupByCaller(callId, 'answered_elsewhere');
        }
        return;
      case 'm.call.negotiate':
        // Limitation: renegotiation (hold, new tracks) is not supported; the call ends cleanly.
        this.#end(call);
        await host.hangupByBridge(callId, 'renegotiation_unsupported');
        return;
      case 'm.call.answer':
      case 'm.call.invite':
        return;
    }
  }

  #signalsFor(callId: string, call: KnownCall): CallSignals {
    const send = (type: string, content: Record<string, unknown>): void => {
      void this.#options
        .send(call.roomId, type, { ...this.#envelope(callId, call), ...content })
        .catch((error: unknown) =>
          this.#log('call_send_failed', undefined, { call_id: callId, type, error: String(error) }),
        );
    };
    return {
      answer: (sdp: string) => send('m.call.answer', { answer: { type: 'answer', sdp } }),
      candidates: (batch: LocalCandidate[]) => send('m.call.candidates', { candidates: batch }),
      hangup: (reason: string, _record: AuditRecord) => {
        this.#end(call);
        send('m.call.hangup', { reason: specReasonOf(reason), [REASON_FIELD]: reason });
      },
    };
  }

  /** Answers a refused invite: a reject for version 1 callers, a hangup for version 0. */
  async #refuse(callId: string, call: KnownCall, reason: string): Promise<void> {
    const envelope = this.#envelope(callId, call);
    const content =
      call.version === 0
        ? { ...envelope, reason: specReasonOf(reason), [REASON_FIELD]: reason }
        : { ...envelope, [REASON_FIELD]: reason };
    try {
      await this.#options.send(
        call.roomId,
        call.version === 0 ? 'm.call.hangup' : 'm.call.reject',
        content,
      );
    } catch (error) {
      this.#log('call_send_failed', undefined, { call_id: callId, error: String(error) });
    }
  }

  #envelope(callId: string, call: KnownCall): Record<string, unknown> {
    return call.version === 0
      ? { call_id: callId, version: 0 }
      : { call_id: callId, version: '1', party_id: this.#options.partyId };
  }

  #holdEarly(event: RoomCallEvent, candidates: CallEvent): void {
    const now = this.#options.clock();
    for (const [callId, held] of this.#early) {
      if (now - held.at > EARLY_CANDIDATES_MS) this.#early.delete(callId);
    }
    let held = this.#early.get(candidates.callId);
    if (held === undefined) {
      if (this.#early.size >= EARLY_CALLS_MAX) return;
      held = { sender: event.sender, roomId: event.roomId, at: now, events: [] };
      this.#early.set(candidates.callId, held);
    }
    if (held.sender !== event.sender || held.roomId !== event.roomId) return;
    if (held.events.length < EARLY_CANDIDATES_MAX) held.events.push(candidates);
  }

  /** Marks a call ended, once. */
  #end(call: KnownCall): void {
    if (call.ended) return;
    call.ended = true;
    call.endedAt = this.#options.clock();
  }

  /**
   * Keeps the memory of ended calls bounded in time and in count, so that it stops growing
   * after its first minutes rather than after its first 10,000 calls; live calls are never
   * forgotten.
   */
  #forgetOldCalls(): void {
    const now = this.#options.clock();
    for (const [callId, call] of this.#calls) {
      if (call.endedAt !== undefined && now - call.endedAt > ENDED_CALLS_KEPT_MS) {
        this.#calls.delete(callId);
      }
    }
    if (this.#calls.size <= KNOWN_CALLS_MAX) return;
    for (const [callId, call] of this.#calls) {
      if (call.ended) this.#calls.delete(callId);
      if (this.#calls.size <= KNOWN_CALLS_MAX / 2) return;
    }
  }

  #isDuplicate(eventId: string): boolean {
    if (this.#seen.has(eventId)) return true;
    const now = this.#options.clock();
    for (const [oldest, at] of this.#seen) {
      if (now - at <= SEEN_EVENTS_KEPT_MS && this.#seen.size < SEEN_EVENTS_MAX) break;
      this.#seen.delete(oldest);
    }
    this.#seen.set(eventId, now);
    return false;
  }

  #log(
    name: string,
    event: RoomCallEvent | undefined,
    fields: Record<string, string | number | boolean>,
  ): void {
    this.#options.log(name, {
      ...(event === undefined
        ? {}
        : { room_id: event.roomId, user_id: event.sender, event_id: event.eventId }),
      ...fields,
    });
  }
}

/**
 * The end reason of a caller's hangup: `caller_hangup`, or `caller_hangup:<their reason>` for
 * any other reason they gave. Prefixed so that a caller cannot make its own hangup read as one
 * of the bridge's reasons (a budget stop, say) in the audit record.
 */
export function callerHangupReason(reason: string): string {
  if (reason === 'user_hangup') return 'caller_hangup';
  const clean = reason.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64);
  return `caller_hangup:${clean}`;
}
