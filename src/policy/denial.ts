/**
 * Why a call was refused, as stable codes, in the order admission checks them: invalid ids,
 * block lists, allow lists, the group-room setting, the E2EE and TLS requirements, the rate limit, then concurrency.
 */
export const DENIAL_REASONS = [
  'invalid_user_id',
  'invalid_room_id',
  'user_blocked',
  'room_blocked',
  'user_not_in_allowlist',
  'room_not_in_allowlist',
  'group_call_refused',
  'e2ee_required',
  'signaling_tls_required',
  'rate_limit_exceeded',
  'max_concurrent_calls_exceeded',
  'max_calls_per_user_exceeded',
  'max_calls_per_room_exceeded',
  // Checked by the call gate before admission: a call id already live cannot start again.
  'duplicate_call_id',
] as const;

/** A denial reason code. */
export type DenialReason = (typeof DENIAL_REASONS)[number];
