import {
  F64,
  F64_PER_SLOT,
  HARD_BUDGET,
  HARD_TTL,
  I32,
  I32_PER_SLOT,
  type SlotTable,
} from './slot-table.js';
import { stopReasonCode } from './stop-reason.js';

/** Limit conditions a check can raise; each is raised at most once per call. */
export const LIMIT = {
  tokenWarning: 1 << 0,
  tokenExceeded: 1 << 1,
  durationWarning: 1 << 2,
  durationExceeded: 1 << 3,
  idleWarning: 1 << 4,
  idleExpired: 1 << 5,
  maxTtlWarning: 1 << 6,
  maxTtlExceeded: 1 << 7,
  maxCallDurationExceeded: 1 << 8,
} as const;

const TOKEN_STOP = stopReasonCode('budget_exceeded');
const DURATION_STOP = stopReasonCode('duration_exceeded');
const IDLE_STOP = stopReasonCode('ttl_expired');
const MAX_TTL_STOP = stopReasonCode('max_ttl_exceeded');
const MAX_CALL_STOP = stopReasonCode('max_call_duration_exceeded');

/**
 * The limits of one slot at `now`, as LIMIT bits. A budget is used up when usage reaches
 * the limit (a budget of N tokens allows N and no more); a deadline is passed at the
 * deadline itself. Warnings are raised when the used fraction reaches the warning ratio.
 */
export function limitsReached(slots: SlotTable, index: number, now: number): number {
  const f = slots.f64;
  const base = index * F64_PER_SLOT;
  const startedAt = f[base + F64.startedAt] ?? 0;
  let bits = 0;

  const tokenLimit = f[base + F64.tokenLimit] ?? 0;
  const tokens = (f[base + F64.inputTokens] ?? 0) + (f[base + F64.outputTokens] ?? 0);
  const budgetRatio = f[base + F64.budgetWarningRatio] ?? 1;
  if (tokens >= tokenLimit) bits |= LIMIT.tokenExceeded | LIMIT.tokenWarning;
  else if (tokens >= tokenLimit * budgetRatio) bits |= LIMIT.tokenWarning;

  const durationDeadline = f[base + F64.durationDeadline] ?? 0;
  if (now >= durationDeadline) bits |= LIMIT.durationExceeded | LIMIT.durationWarning;
  else if (now - startedAt >= (durationDeadline - startedAt) * budgetRatio) {
    bits |= LIMIT.durationWarning;
  }

  const ttlRatio = f[base + F64.ttlWarningRatio] ?? 1;
  const idleTtl = f[base + F64.idleTtl] ?? 0;
  const idleFor = now - (f[base + F64.lastActivityAt] ?? startedAt);
  if (idleFor >= idleTtl) bits |= LIMIT.idleExpired | LIMIT.idleWarning;
  else if (idleFor >= idleTtl * ttlRatio) bits |= LIMIT.idleWarning;

  const maxTtlDeadline = f[base + F64.maxTtlDeadline] ?? 0;
  if (now >= maxTtlDeadline) bits |= LIMIT.maxTtlExceeded | LIMIT.maxTtlWarning;
  else if (now - startedAt >= (maxTtlDeadline - startedAt) * ttlRatio) bits |= LIMIT.maxTtlWarning;

  if (now >= (f[base + F64.maxCallDeadline] ?? 0)) bits |= LIMIT.maxCallDurationExceeded;
  return bits;
}

/**
 * Checks one live slot at `now`: records newly reached limits in its raised bits and, for a
 * limit under hard stop, raises the stop flag with the limit's reason. The media loop calls
 * this for each of its calls on every tick; the main thread calls it on its scan. Returns
 * the bits raised by this call (0 almost always), which the caller may ignore.
 */
export function checkSlot(slots: SlotTable, index: number, now: number): number {
  const reached = limitsReached(slots, index, now);
  const i = index * I32_PER_SLOT;
  const before = Atomics.load(slots.i32, i + I32.raised);
  const fresh = reached & ~before;
  if (fresh === 0) return 0;

  Atomics.or(slots.i32, i + I32.raised, fresh);
  const hard = Atomics.load(slots.i32, i + I32.hardFlags);
  const stop = stopFor(fresh, hard);
  if (stop !== 0) slots.raiseStop(index, stop);
  return fresh;
}

/** The stop reason a set of freshly reached limits calls for, most fundamental first. */
function stopFor(fresh: number, hard: number): number {
  if (fresh & LIMIT.maxCallDurationExceeded) return MAX_CALL_STOP;
  if (hard & HARD_TTL) {
    if (fresh & LIMIT.maxTtlExceeded) return MAX_TTL_STOP;
    if (fresh & LIMIT.idleExpired) return IDLE_STOP;
  }
  if (hard & HARD_BUDGET) {
    if (fresh & LIMIT.tokenExceeded) return TOKEN_STOP;
    if (fresh & LIMIT.durationExceeded) return DURATION_STOP;
  }
  return 0;
}
