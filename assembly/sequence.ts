// RTP sequence numbers are 16 bits wide and wrap from 65535 to 0, so every comparison is
// a distance taken modulo 2^16: a distance below HALF means "ahead", anything else "behind".

/** Half the sequence space: distances at or above it are read as negative. */
export const SEQ_HALF: u32 = 0x8000;

/** Mask that keeps a value inside the 16-bit sequence space. */
export const SEQ_MASK: u32 = 0xffff;

/** How far `to` is ahead of `from`, modulo 2^16 (0 to 65535). */
export function seqAhead(from: u32, to: u32): u32 {
  return (to - from) & SEQ_MASK;
}

/** The sequence number `count` places after `seq`. */
export function seqAdd(seq: u32, count: u32): u32 {
  return (seq + count) & SEQ_MASK;
}
