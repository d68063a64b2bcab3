/**
 * Bytes between fields that two threads write, so a producer and a consumer never share a
 * cache line (sharing one doubles the cost of every atomic access).
 */
export const CACHE_LINE: u32 = 64;

/** Rounds `value` up to a multiple of `align`, which must be a power of two. */
export function alignUp(value: u32, align: u32): u32 {
  return (value + align - 1) & ~(align - 1);
}
