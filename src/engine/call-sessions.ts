import type { Clock } from '../clock.js';
import type { Reservation } from '../policy/security-enforcer.js';
import {
  SECURITY_EVENTS,
  type SecurityEventFields,
  type SecurityEventName,
  type SecurityLog,
} from '../telemetry/security-log.js';
import { CallSession } from './call-session.js';
import { LIMIT, checkSlot } from './limit-check.js';
import { F64, HARD_BUDGET, HARD_TTL, I32, SlotTable, type SlotLimits } from './slot-table.js';
import { stopReasonCode, stopReasonOf, type StopReason } from './stop-reason.js';

/** Told when a session closes, while its slot (and its final counters) can still be read. */
export type CloseListener = (session: CallSession) => void;

/** Told when a call must end: a hard limit was reached, or someone asked it to stop. */
export type StopListener = (session: CallSession, reason: StopReason) => void;

/**
 * The live calls of this process, each on a slot of the shared table. The main thread owns
 * this: it opens and closes sessions, and turns what the limit checks raised (here or in a
 * media worker) into security events, audit events and stop notices.
 */
export class CallSessions {
  /** The shared slot table. */
  readonly slots: SlotTable;
  /** Live sessions by slot index. */
  readonly #byIndex = new Map<number, CallSession>();
  /** Who hears that a call must stop. */
  readonly #stopListeners = new Set<StopListener>();
  /** Who hears that a session closes. */
  readonly #closeListeners = new Set<CloseListener>();
  readonly #clock: Clock;
  readonly #log: SecurityLog;

  constructor(slots: SlotTable, clock: Clock, log: SecurityLog) {
    this.slots = slots;
    this.#clock = clock;
    this.#log = log;
  }

  /** Live sessions. */
  get size(): number {
    return this.#byIndex.size;
  }

  /** Live sessions in slot order. */
  live(): IterableIterator<CallSession> {
    return this.#byIndex.values();
  }

  /** Adds a stop listener; returns a function that removes it. */
  onStop(listener: StopListener): () => void {
    this.#stopListeners.add(listener);
    return () => this.#stopListeners.delete(listener);
  }

  /** Adds a close listener; returns a function that removes it. */
  onClose(listener: CloseListener): () => void {
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  /** Opens a session for an admitted call on a free slot. */
  open(reservation: Reservation, limits: SlotLimits): CallSession {
    const handle = this.slots.claim(limits);
    const session = new CallSession(
      reservation,
      handle,
      limits.tokenLimit,
      limits.durationDeadline - limits.startedAt,
    );
    this.#byIndex.set(handle.index, session);
    return session;
  }

  /** Reports what is left to report, then frees the slot. False when already closed. */
  close(session: CallSession): boolean {
    if (!this.slots.isLive(session.handle)) return false;
    this.#report(session, this.#clock());
    for (const listener of this.#closeListeners) {
      try {
        listener(session);
      } catch {
        // A listener (metrics) must not keep the slot from being freed.
      }
    }
    this.#byIndex.delete(session.handle.index);
    return this.slots.release(session.handle);
  }

  /** True while the session's slot is still its own. */
  isOpen(session: CallSession): boolean {
    return this.slots.isLive(session.handle);
  }

  /**
   * Asks a call to stop (a hangup, shutdown, a failure). The first stop reason wins; a call
   * already stopping keeps its reason. Listeners hear of it once.
   */
  stop(session: CallSession, reason: StopReason): void {
    if (!this.isOpen(session)) return;
    this.slots.raiseStop(session.handle.index, stopReasonCode(reason));
    this.#report(session, this.#clock());
  }

  /** Checks one session's limits now and reports what changed. */
  check(session: CallSession): void {
    if (!this.isOpen(session)) return;
    const now = this.#clock();
    checkSlot(this.slots, session.handle.index, now);
    this.#report(session, now);
  }

  /** Checks every live session: the main thread's enforcement scan. */
  scan(): void {
    for (const session of [...this.#byIndex.values()]) this.check(session);
  }

  /** Turns newly raised limit bits and a newly raised stop flag into events and notices. */
  #report(session: CallSession, now: number): void {
    const index = session.handle.index;
    const raised = this.slots.load(index, I32.raised);
    const fresh = raised & ~this.slots.load(index, I32.reported);
    if (fresh !== 0) {
      this.slots.store(index, I32.reported, raised);
      this.#reportLimits(session, fresh, now);
    }

    const code = this.slots.load(index, I32.stopReason);
    if (code !== 0 && session.stopReason === undefined) {
      session.stopReason = stopReasonOf(code);
      for (const listener of this.#stopListeners) {
        try {
          listener(session, session.stopReason);
        } catch (error) {
          this.#log.emit(SECURITY_EVENTS.limitViolation, {
            ...this.#ids(session),
            violation: 'stop_listener_failed',
            error: error instanceof Error ? error.message : String(error),
          });
        }
      }
    }
  }

  #reportLimits(session: CallSession, fresh: number, now: number): void {
    const index = session.handle.index;
    const slots = this.slots;
    const hard = slots.load(index, I32.hardFlags);
    const stop = stopReasonOf(slots.load(index, I32.stopReason));
    const startedAt = slots.get(index, F64.startedAt);
    const tokens = slots.get(index, F64.inputTokens) + slots.get(index, F64.outputTokens);
    const tokenLimit = slots.get(index, F64.tokenLimit);
    const durationLimit = slots.get(index, F64.durationDeadline) - startedAt;
    const idleTtl = slots.get(index, F64.idleTtl);
    const idleLeft = slots.get(index, F64.lastActivityAt) + idleTtl - now;
    const maxTtlLeft = slots.get(index, F64.maxTtlDeadline) - now;
    const elapsed = now - startedAt;

    const percent = (used: number, limit: number): number =>
      limit > 0 ? Math.round((used / limit) * 1000) / 10 : 100;
    const exceeded = (
      reason: StopReason,
      hardBit: number,
      event: SecurityEventName,
      fields: SecurityEventFields,
    ): void => {
      if (hard & hardBit) {
        if (stop === reason) this.#emit(session, event, now, fields);
      } else {
        session.violations.push(reason);
        this.#emit(session, SECURITY_EVENTS.limitViolation, now, { violation: reason, ...fields });
      }
    };

    if (fresh & LIMIT.tokenWarning) {
      this.#emit(session, SECURITY_EVENTS.budgetWarning, now, {
        limit: 'tokens',
        used: tokens,
        token_limit: tokenLimit,
        usage_percent: percent(tokens, tokenLimit),
      });
    }
    if (fresh & LIMIT.tokenExceeded) {
      exceeded('budget_exceeded', HARD_BUDGET, SECURITY_EVENTS.budgetEnforced, {
        limit: 'tokens',
        used: tokens,
        token_limit: tokenLimit,
      });
    }
    if (fresh & LIMIT.durationWarning) {
      this.#emit(session, SECURITY_EVENTS.budgetWarning, now, {
        limit: 'duration',
        elapsed_ms: elapsed,
        duration_limit_ms: durationLimit,
        usage_percent: percent(elapsed, durationLimit),
      });
    }
    if (fresh & LIMIT.durationExceeded) {
      exceeded('duration_exceeded', HARD_BUDGET, SECURITY_EVENTS.durationEnforced, {
        limit: 'duration',
        elapsed_ms: elapsed,
        duration_limit_ms: durationLimit,
      });
    }
    if (fresh & LIMIT.idleWarning) {
      this.#emit(session, SECURITY_EVENTS.ttlWarning, now, {
        ttl: 'idle',
        remaining_ms: Math.max(0, idleLeft),
        ttl_ms: idleTtl,
      });
    }
    if (fresh & LIMIT.idleExpired) {
      exceeded('ttl_expired', HARD_TTL, SECURITY_EVENTS.ttlEnforced, {
        ttl: 'idle',
        ttl_ms: idleTtl,
      });
    }
    if (fresh & LIMIT.maxTtlWarning) {
      this.#emit(session, SECURITY_EVENTS.ttlWarning, now, {
        ttl: 'max',
        remaining_ms: Math.max(0, maxTtlLeft),
      });
    }
    if (fresh & LIMIT.maxTtlExceeded) {
      exceeded('max_ttl_exceeded', HARD_TTL, SECURITY_EVENTS.ttlEnforced, { ttl: 'max' });
    }
    if (fresh & LIMIT.maxCallDurationExceeded && stop === 'max_call_duration_exceeded') {
      this.#emit(session, SECURITY_EVENTS.durationEnforced, now, {
        limit: 'max_call_duration',
        elapsed_ms: elapsed,
      });
    }
  }

  #emit(
    session: CallSession,
    event: SecurityEventName,
    at: number,
    fields: SecurityEventFields,
  ): void {
    const detail: Record<string, string | number | boolean> = {};
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) detail[key] = value;
    session.events.push({ at, event, detail });
    this.#log.emit(event, { ...this.#ids(session), ...fields });
  }

  #ids(session: CallSession): SecurityEventFields {
    const { callId, roomId, userId } = session.reservation;
    return { call_id: callId, room_id: roomId, user_id: userId };
  }
}
