import type { CallSession } from '../engine/call-session.js';
import { readCallStats } from '../engine/call-stats.js';
import { F64, HARD_BUDGET, HARD_TTL, I32, type SlotTable } from '../engine/slot-table.js';

/** A live call as the admin API shows it: who, under which policy, usage against limits. */
export interface LiveCallView {
  call_id: string;
  user_id: string;
  room_id: string;
  policy_version: string;
  /** Epoch ms. */
  started_at: number;
  duration_ms: number;
  duration_limit_ms: number;
  tokens_used: number;
  input_tokens: number;
  output_tokens: number;
  token_limit: number;
  /** Whether reaching the token or duration budget ends the call. */
  hard_stop: boolean;
  /** Whether the session TTLs end the call. */
  ttl_hard_stop: boolean;
  /** Time left before the idle TTL runs out (negative once past, under a soft limit). */
  ttl_remaining_ms: number;
  max_ttl_remaining_ms: number;
  /** Set once the call has been told to stop. */
  stop_reason: string | null;
  media: {
    packets_in: number;
    packets_out: number;
    packets_lost: number;
    jitter_ms: number;
    tick_lateness_ms: number;
  };
}

/** Reads a live call's view from its session and slot; undefined once its slot is freed. */
export function liveCallView(
  slots: SlotTable,
  session: CallSession,
  now: number,
): LiveCallView | undefined {
  if (!slots.isLive(session.handle)) return undefined;
  const { index } = session.handle;
  const stats = readCallStats(slots, index);
  const startedAt = slots.get(index, F64.startedAt);
  const hard = slots.load(index, I32.hardFlags);
  const { reservation } = session;
  return {
    call_id: reservation.callId,
    user_id: reservation.userId,
    room_id: reservation.roomId,
    policy_version: reservation.policy.version,
    started_at: startedAt,
    duration_ms: Math.max(0, now - startedAt),
    duration_limit_ms: session.durationLimit,
    tokens_used: stats.input_tokens + stats.output_tokens,
    input_tokens: stats.input_tokens,
    output_tokens: stats.output_tokens,
    token_limit: session.tokenLimit,
    hard_stop: (hard & HARD_BUDGET) !== 0,
    ttl_hard_stop: (hard & HARD_TTL) !== 0,
    ttl_remaining_ms: stats.last_activity_at + slots.get(index, F64.idleTtl) - now,
    max_ttl_remaining_ms: slots.get(index, F64.maxTtlDeadline) - now,
    stop_reason: session.stopReason ?? null,
    media: {
      packets_in: stats.packets_in,
      packets_out: stats.packets_out,
      packets_lost: stats.packets_lost,
      jitter_ms: stats.jitter_ms,
      tick_lateness_ms: stats.tick_lateness_ms,
    },
  };
}
