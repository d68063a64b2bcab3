import type { Clock } from '../clock.js';
import type { CallSession } from '../engine/call-session.js';
import type { CallSessions } from '../engine/call-sessions.js';
import { F64, type SlotTable } from '../engine/slot-table.js';

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
    return lifetimeOf(this.#sessions.slots, session.handle.index, this.#clock()).remaining;
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
      const lifetime = lifetimeOf(slots, session.handle.index, now);
      total += 1;
      remainingSum += lifetime.remaining;
      if (lifetime.warned) soon += 1;
    }
    return {
      total_sessions: total,
      expiring_soon: soon,
      average_remaining: total === 0 ? 0 : remainingSum / total,
    };
  }
}

/** Where a session stands against its idle and absolute lifetimes at `now`. */
function lifetimeOf(
  slots: SlotTable,
  index: number,
  now: number,
): { remaining: number; warned: boolean } {
  const idleTtl = slots.get(index, F64.idleTtl);
  const idleLeft = slots.get(index, F64.lastActivityAt) + idleTtl - now;
  const maxDeadline = slots.get(index, F64.maxTtlDeadline);
  const maxLeft = maxDeadline - now;
  const warnShare = 1 - slots.get(index, F64.ttlWarningRatio);
  const maxSpan = maxDeadline - slots.get(index, F64.startedAt);
  return {
    remaining: Math.max(0, Math.min(idleLeft, maxLeft)),
    warned: idleLeft <= idleTtl * warnShare || maxLeft <= maxSpan * warnShare,
  };
}
