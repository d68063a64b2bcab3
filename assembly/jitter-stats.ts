// Read-outs of a jitter buffer's state and counters.

import {
  BUFFERED,
  DEPTH,
  DISCARDED,
  DUPLICATES,
  INVALID,
  LATE,
  LOST,
  NEXT_SEQ,
  PLAYED,
  RECEIVED,
  REORDERED,
  RESYNCS,
  UNDERRUNS,
  get,
} from './jitter-layout';

/** Sequence number of the packet the next `jitterPop` plays (meaningless before the first). */
export function jitterNextSeq(jb: usize): u32 {
  return get(jb, NEXT_SEQ);
}

/** Current target depth, in packets. */
export function jitterDepth(jb: usize): u32 {
  return get(jb, DEPTH);
}

/** Packets held, waiting to play. */
export function jitterBuffered(jb: usize): u32 {
  return get(jb, BUFFERED);
}

/** Packets accepted for consideration (everything but invalid ones). */
export function jitterReceived(jb: usize): u32 {
  return get(jb, RECEIVED);
}

/** Packets played. */
export function jitterPlayed(jb: usize): u32 {
  return get(jb, PLAYED);
}

/** Sequence numbers given up on: reported as gaps or skipped. */
export function jitterLost(jb: usize): u32 {
  return get(jb, LOST);
}

/** Packets that arrived after a later one and were still in time. */
export function jitterReordered(jb: usize): u32 {
  return get(jb, REORDERED);
}

/** Copies of a packet already held or played. */
export function jitterDuplicates(jb: usize): u32 {
  return get(jb, DUPLICATES);
}

/** Packets that arrived after their turn. */
export function jitterLate(jb: usize): u32 {
  return get(jb, LATE);
}

/** Packets received but never played: dropped to cut delay, at a jump, or at a restart. */
export function jitterDiscarded(jb: usize): u32 {
  return get(jb, DISCARDED);
}

/** Times the stream was restarted after a confirmed sequence jump. */
export function jitterResyncs(jb: usize): u32 {
  return get(jb, RESYNCS);
}

/** Times the buffer ran dry while playing. */
export function jitterUnderruns(jb: usize): u32 {
  return get(jb, UNDERRUNS);
}

/** Packets refused as too long or not RTP. */
export function jitterInvalid(jb: usize): u32 {
  return get(jb, INVALID);
}
