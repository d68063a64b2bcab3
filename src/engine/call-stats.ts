import { F64, I32, type SlotTable } from './slot-table.js';

/** A live call's media and usage counters, as read from its slot. */
export interface CallStats {
  packets_in: number;
  packets_out: number;
  bytes_in: number;
  bytes_out: number;
  packets_lost: number;
  /** Interarrival jitter of the caller's packets (RFC 3550), in ms. */
  jitter_ms: number;
  reordered: number;
  late: number;
  concealed_frames: number;
  /** How late the call's last media tick started, in ms. */
  tick_lateness_ms: number;
  input_tokens: number;
  output_tokens: number;
  /** When voiced audio last came from the caller (epoch ms). */
  last_activity_at: number;
}

/**
 * Reads a call's counters from its slot. The tick sequence is loaded first, so the counters
 * read are at least as new as the last tick the media worker published.
 */
export function readCallStats(slots: SlotTable, index: number): CallStats {
  slots.load(index, I32.tickSeq);
  const get = (field: number): number => slots.get(index, field);
  return {
    packets_in: get(F64.packetsIn),
    packets_out: get(F64.packetsOut),
    bytes_in: get(F64.bytesIn),
    bytes_out: get(F64.bytesOut),
    packets_lost: get(F64.packetsLost),
    jitter_ms: get(F64.jitterMs),
    reordered: get(F64.reordered),
    late: get(F64.late),
    concealed_frames: get(F64.concealedFrames),
    tick_lateness_ms: get(F64.tickLatenessMs),
    input_tokens: get(F64.inputTokens),
    output_tokens: get(F64.outputTokens),
    last_activity_at: get(F64.lastActivityAt),
  };
}
