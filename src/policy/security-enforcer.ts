import { isRoomId, isUserId, normalizeId } from '../config/matrix-id.js';
import type { VoiceConfig } from '../config/types.js';
import type { Clock } from '../clock.js';
import { SECURITY_EVENTS, type SecurityLog } from '../telemetry/security-log.js';
import type { DenialReason } from './denial.js';
import { LiveCounts } from './live-counts.js';
import { SlidingWindowRateLimiter } from './rate-limiter.js';
import { SecurityPolicy } from './security-policy.js';

/** What admission knows about a call that wants to start. */
export interface CallContext {
  callId: string;
  /** The caller. */
  userId: string;
  roomId: string;
  /** True when the call's signaling arrived end-to-end encrypted. */
  signalingEncrypted: boolean;
  /** True when the link to the homeserver is TLS. */
  signalingTls: boolean;
  /** Joined members of the room, when known; more than two makes it a group call. */
  roomMembers?: number;
}

/** A live call's hold on the concurrency limits, released exactly once when the call ends. */
export class Reservation {
  /** Whether the enforcer has taken this reservation back; private, so a copy cannot fake it. */
  #released = false;
  /** Where it sits in its enforcer's list of live reservations (for O(1) removal). */
  liveIndex = -1;
  /** Whether the per-user and per-room counts include it. */
  counted = false;

  constructor(
    readonly callId: string,
    readonly userId: string,
    readonly roomId: string,
    /** The policy the call was admitted under; it keeps its limits across reloads. */
    readonly policy: SecurityPolicy,
    readonly admittedAt: number,
    /** The caller and room as the limits count them (server names lower-cased). */
    readonly userKey: string,
    readonly roomKey: string,
    /** The enforcer that issued it. */
    readonly issuer: SecurityEnforcer,
  ) {}

  /** Whether the reservation has been returned. */
  get released(): boolean {
    return this.#released;
  }

  /** Marks the reservation returned; true only the first time, and only for a real one. */
  static take(reservation: Reservation): boolean {
    if (!(#released in reservation) || reservation.#released) return false;
    reservation.#released = true;
    return true;
  }
}

/** The outcome of admission. */
export type Admission =
  | { admitted: true; reservation: Reservation }
  | { admitted: false; reason: DenialReason; policyVersion: string };

/** Options of the enforcer. */
export interface EnforcerOptions {
  clock: Clock;
  log: SecurityLog;
  /** Live calls the process can hold whatever the policy says (the slot table's size). */
  capacity?: number;
}

/**
 * The security enforcer: decides whether a call may start and holds the reservations of live
 * calls. Admission is one synchronous step that checks every rule and then reserves, so no
 * second call can slip in between the check and the registration.
 */
export class SecurityEnforcer {
  /** The policy new calls are admitted under. */
  #policy: SecurityPolicy;
  /** Admitted calls per user within the rate window. */
  #rate: SlidingWindowRateLimiter;
  /** Reservations issued and not yet released, in no particular order. */
  readonly #live: Reservation[] = [];
  /**
   * Whether per-user and per-room counts are kept: only while a cap asks for them, since they
   * cost more than the rest of admission. Turning a cap on rebuilds them from the live list.
   */
  #counting: boolean;
  /** Live calls per normalized user id. */
  readonly #perUser = new LiveCounts();
  /** Live calls per normalized room id. */
  readonly #perRoom = new LiveCounts();
  readonly #clock: Clock;
  readonly #log: SecurityLog;
  readonly #capacity: number;

  constructor(voice: VoiceConfig, options: EnforcerOptions) {
    this.#policy = new SecurityPolicy(voice);
    this.#rate = newRateLimiter(voice);
    this.#counting = hasCaps(voice);
    this.#clock = options.clock;
    this.#log = options.log;
    this.#capacity = options.capacity ?? Number.POSITIVE_INFINITY;
  }

  /** The policy new calls get. */
  get policy(): SecurityPolicy {
    return this.#policy;
  }

  /** Calls holding a reservation. */
  get liveCalls(): number {
    return this.#live.length;
  }

  /**
   * Replaces the policy for calls admitted from now on. Live calls keep the policy they were
   * admitted under. The rate window's history is kept when the window length is unchanged.
   */
  updatePolicy(voice: VoiceConfig): SecurityPolicy {
    const old = this.#policy.voice;
    this.#policy = new SecurityPolicy(voice);
    const counting = hasCaps(voice);
    if (counting && !this.#counting) {
      for (const reservation of this.#live) if (!reservation.counted) this.#count(reservation);
    }
    this.#counting = counting;
    if (
      old.rate_limit_window !== voice.rate_limit_window ||
      old.rate_limit_calls !== voice.rate_limit_calls
    ) {
      // Limitation: a reload that changes the rate limit starts its windows empty.
      this.#rate = newRateLimiter(voice);
    }
    return this.#policy;
  }

  /**
   * Checks the call against the policy and, when every rule passes, reserves its place.
   * A denial is logged as a security event; the caller writes the audit record.
   */
  admit(context: CallContext): Admission {
    // Each field is read once, so what is checked is what is recorded.
    const call: CallContext = {
      callId: context.callId,
      userId: context.userId,
      roomId: context.roomId,
      signalingEncrypted: context.signalingEncrypted,
      signalingTls: context.signalingTls,
      roomMembers: context.roomMembers,
    };
    const policy = this.#policy;
    const now = this.#clock();
    const valid = validIds(call);
    const user = valid ? normalizeId(call.userId) : '';
    const room = valid ? normalizeId(call.roomId) : '';
    const reason = valid ? this.#check(policy, call, user, room, now) : invalidIdReason(call);
    if (reason !== undefined) {
      this.#log.emit(SECURITY_EVENTS.accessDenied, {
        resource: 'voice_call_start',
        reason,
        call_id: call.callId,
        room_id: call.roomId,
        user_id: call.userId,
      });
      return { admitted: false, reason, policyVersion: policy.version };
    }

    this.#rate.record(user, now);
    // Counted whatever the caps are now, so a reload that turns a cap on counts every live call.

    const reservation = new Reservation(
      call.callId,
      call.userId,
      call.roomId,
      policy,
      now,
      user,
      room,
      this,
    );
    if (this.#counting) this.#count(reservation);
    reservation.liveIndex = this.#live.length;
    this.#live.push(reservation);
    if (!this.#log.wants(SECURITY_EVENTS.callRegistered)) return { admitted: true, reservation };
    this.#log.emit(SECURITY_EVENTS.callRegistered, {
      call_id: call.callId,
      room_id: call.roomId,
      user_id: call.userId,
      policy_version: policy.version,
      live_calls: this.#live.length,
    });
    return { admitted: true, reservation };
  }

  /** Returns a call's reservation. Safe to call any number of times; true only the first. */
  release(reservation: Reservation, reason = 'ended'): boolean {
    if (reservation.issuer !== this || !Reservation.take(reservation)) return false;
    // Swap-remove: the last live reservation takes this one's place.
    const last = this.#live.pop() as Reservation;
    if (last !== reservation) {
      last.liveIndex = reservation.liveIndex;
      this.#live[last.liveIndex] = last;
    }
    if (reservation.counted) {
      this.#perUser.decrement(reservation.userKey);
      this.#perRoom.decrement(reservation.roomKey);
    }
    if (!this.#log.wants(SECURITY_EVENTS.callUnregistered)) return true;
    this.#log.emit(SECURITY_EVENTS.callUnregistered, {
      call_id: reservation.callId,
      room_id: reservation.roomId,
      user_id: reservation.userId,
      reason,
      live_calls: this.#live.length,
    });
    return true;
  }

  /** Forgets rate-limit state of users whose window has emptied. Returns users dropped. */
  sweep(): number {
    return this.#rate.sweep(this.#clock());
  }

  /** Rate-limit state held, for the benchmarks and the metrics. */
  get rateLimitState(): { activeUsers: number; bytes: number } {
    return { activeUsers: this.#rate.activeUsers, bytes: this.#rate.stateBytes };
  }

  #count(reservation: Reservation): void {
    reservation.counted = true;
    this.#perUser.increment(reservation.userKey);
    this.#perRoom.increment(reservation.roomKey);
  }

  #check(
    policy: SecurityPolicy,
    call: CallContext,
    user: string,
    room: string,
    now: number,
  ): DenialReason | undefined {
    const voice = policy.voice;
    const listed = policy.accessRefusal(user, room);
    if (listed !== undefined) return listed;
    if (voice.group_calls === 'refuse' && (call.roomMembers ?? 0) > 2) return 'group_call_refused';
    if (voice.require_e2ee && call.signalingEncrypted !== true) return 'e2ee_required';
    if (voice.require_signaling_tls && call.signalingTls !== true) return 'signaling_tls_required';

    if (!this.#rate.allows(user, now)) return 'rate_limit_exceeded';
    if (this.#live.length >= Math.min(voice.max_concurrent_calls, this.#capacity)) {
      return 'max_concurrent_calls_exceeded';
    }
    if (voice.max_calls_per_user > 0 && this.#perUser.get(user) >= voice.max_calls_per_user) {
      return 'max_calls_per_user_exceeded';
    }
    if (voice.max_calls_per_room > 0 && this.#perRoom.get(room) >= voice.max_calls_per_room) {
      return 'max_calls_per_room_exceeded';
    }
    return undefined;
  }
}

function hasCaps(voice: VoiceConfig): boolean {
  return voice.max_calls_per_user > 0 || voice.max_calls_per_room > 0;
}

function validIds(call: CallContext): boolean {
  return (
    typeof call.userId === 'string' &&
    isUserId(call.userId) &&
    typeof call.roomId === 'string' &&
    isRoomId(call.roomId)
  );
}

function invalidIdReason(call: CallContext): DenialReason {
  return typeof call.userId === 'string' && isUserId(call.userId)
    ? 'invalid_room_id'
    : 'invalid_user_id';
}

function newRateLimiter(voice: VoiceConfig): SlidingWindowRateLimiter {
  return new SlidingWindowRateLimiter({
    limit: voice.rate_limit_calls,
    windowMs: voice.rate_limit_window,
  });
}
