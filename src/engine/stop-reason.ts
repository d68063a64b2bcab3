/**
 * Why a call ended, as a stable code. The slot table stores the index of the code, so the
 * order of this list is part of the shared-memory layout: append, never reorder.
 */
export const STOP_REASONS = [
  'none',
  'budget_exceeded',
  'duration_exceeded',
  'ttl_expired',
  'max_ttl_exceeded',
  'max_call_duration_exceeded',
  'media_worker_failed',
  'agent_hangup',
  'agent_error',
  'caller_hangup',
  'shutdown',
  'transport_failed',
  'answered_elsewhere',
] as const;

/** A stop reason code. */
export type StopReason = (typeof STOP_REASONS)[number];

const CODE_OF = new Map<string, number>(STOP_REASONS.map((reason, index) => [reason, index]));

/** The number stored in a slot for `reason`. */
export function stopReasonCode(reason: StopReason): number {
  return CODE_OF.get(reason) ?? 0;
}

/** The reason for a number read from a slot; unknown numbers read as 'none'. */
export function stopReasonOf(code: number): StopReason {
  return STOP_REASONS[code] ?? 'none';
}

/** Stops that mean something broke, recorded as a failed call rather than an ended one. */
const FAILURES: ReadonlySet<StopReason> = new Set([
  'media_worker_failed',
  'agent_error',
  'transport_failed',
]);

/** The audit state of a call stopped for `reason`. */
export function auditStateOf(reason: StopReason): 'ended' | 'failed' {
  return FAILURES.has(reason) ? 'failed' : 'ended';
}
