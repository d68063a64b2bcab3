/** Hangup reasons the VoIP spec lists; the bridge's own reasons map onto these. */
export type SpecHangupReason =
  | 'ice_failed'
  | 'ice_timeout'
  | 'invite_timeout'
  | 'user_hangup'
  | 'user_media_failed'
  | 'user_busy'
  | 'unknown_error';

/** The field where the bridge puts its precise reason next to the spec's. */
export const REASON_FIELD = 'org.voicebridge.reason';

/** The spec reason closest to one of the bridge's end reasons. */
export function specReasonOf(reason: string): SpecHangupReason {
  switch (reason) {
    case 'transport_failed':
    case 'ice_failed':
      return 'ice_failed';
    case 'media_worker_failed':
    case 'media_unavailable':
    case 'invalid_offer':
      return 'user_media_failed';
    case 'max_concurrent_calls_exceeded':
    case 'max_calls_per_user_exceeded':
    case 'max_calls_per_room_exceeded':
    case 'rate_limit_exceeded':
      return 'user_busy';
    case 'agent_error':
    case 'renegotiation_unsupported':
      return 'unknown_error';
    default:
      // Limits, TTLs, shutdown and the agent's own hangup all end the call on purpose.
      return 'user_hangup';
  }
}
