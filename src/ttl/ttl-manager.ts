import type { Clock } from '../clock.js';
import type { CallSession } from '../engine/call-session.js';
import type { CallSessions } from '../engine/call-sessions.js';
import { F64 } from '../engine/slot-table.js';

/** What the TTL manager reports about live sessions. Milliseconds. */
export interface TtlStats {
  total_sessions: number;
  /** Sessions past the TTL warning threshold of their idle or absolute lifetime. */
  expiring_soon: number;
  /** Mean time left before the nearer of the idle and absolute expiry; 0 with no sessions. */
  average_remaining: number;
}

/**
 * The TTL manager: a session expires after `default_ttl` without media activity and never
 * lives past `max_ttl`. Activity refreshes the idle lifetime. The main thread checks every
 * session each `enforcement_interval` (see PolicyCore.startEnforcement); media workers check
 * their own calls every tick.
 */
export class TtlManager {
  readonly #sessions: CallSessions;
  readonly #clock: Clock;

  constructor(sessions: CallSessions, clock: Clock) {
    this.#sessions = sessions;
    this.#clock = clock;
  }

  /** Marks media activity on a call now, which restarts its idle lifetime. */
  touch(session: CallSession): void {
    if (!this.#sessions.isOpen(session)) return;
    this.#sessions.slots.set(session.handle.index, F64.lastActivityAt, this.#clock());
  }

  /** Milliseconds before the session expires, by whichever comes first of idle and absolute. */
  remaining(session: CallSession): number {
    if (!this.#sessions.isOpen(session)) return 0;
    const slots = this.#sessions.slots;
    const index = session.handle.index;
    const now = this.#clock();
    const idleLeft = slots.get(index, F64.lastActivityAt) + slots.get(index, F64.idleTtl) - now;
    const maxLeft = slots.get(index, F64.maxTtlDeadline) - now;
    return Math.max(0, Math.min(idleLeft, maxLeft));
  }

  /** Checks every session's limits now. */
  enforceTtl(): void {
    this.#sessions.scan();
  }

  /** Counts and averages over live sessions. */
  stats(): TtlStats {
    const slots = this.#sessions.slots;
    const now = this.#clock();
    let total = 0;
    let soon = 0;
    let remainingSum = 0;
    for (const session of this.#sessions.live()) {
      const index = session.handle.index;
      const startedAt = slots.get(index, F64.startedAt);
      const idleTtl = slots.get(index, F64.idleTtl);
      const idleLeft = slots.get(index, F64.lastActivityAt) + idleTtl - now;
      const maxTtlDeadline = slots.get(index, F64.maxTtlDeadline);
      const maxLeft = maxTtlDeadline - now;
      const warnShare = 1 - slots.get(index, F64.ttlWarningRatio);
      total += 1;
      remainingSum += Math.max(0, Math.min(idleLeft, maxLeft));
      if (idleLeft <= idleTtl * warnShare || maxLeft <= (maxTtlDeadline - startedAt) * warnShare) {
        soon += 1;
      }
    }
    return {
      total_sessions: total,
      expiring_soon: soon,
      average_remaining: total === 0 ? 0 : remainingSum / total,
    };
  }
}
