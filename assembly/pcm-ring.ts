// A single-producer single-consumer ring of fixed-size PCM frames (960 16-bit samples, 20 ms
// of 48 kHz mono) in shared memory. Positions are free-running 32-bit frame counts; only the
// consumer writes `head` and only the producer writes `tail`, each with an atomic store after
// touching the frame, so a frame is never read while it is being written.
//
// Besides copying push and pop, a side can work in place: take a slot index, fill or read
// the frame there, then commit or release it. That saves a copy when the caller can write
// straight into the ring.

import { CACHE_LINE } from './layout';

/** Samples in one frame: 20 ms at 48 kHz, mono. */
export const FRAME_SAMPLES: u32 = 960;

/** Bytes in one frame. */
export const FRAME_BYTES: u32 = FRAME_SAMPLES * 2;

// Consumer line.
const HEAD: u32 = 0;
const POPPED: u32 = 4;
const TAIL_SEEN: u32 = 8;

// Producer line.
const TAIL: u32 = CACHE_LINE;
const PUSHED: u32 = CACHE_LINE + 4;
const DROPPED: u32 = CACHE_LINE + 8;
const HEAD_SEEN: u32 = CACHE_LINE + 12;

// Written once by init.
const FRAMES: u32 = 2 * CACHE_LINE;

const HEADER_BYTES: u32 = 3 * CACHE_LINE;

/** Returned by `pcmRingWriteSlot` and `pcmRingReadSlot` when no slot is available. */
export const NO_SLOT: i32 = -1;

/** Bytes a ring of `frames` frames needs. */
export function pcmRingBytes(frames: u32): u32 {
  return HEADER_BYTES + frames * FRAME_BYTES;
}

/** Sets up an empty ring; `frames` is a power of two, `start` the initial position. */
export function pcmRingInit(ring: usize, frames: u32, start: u32): void {
  memory.fill(ring, 0, HEADER_BYTES);
  store<u32>(ring, frames, FRAMES);
  store<u32>(ring, start, TAIL_SEEN);
  store<u32>(ring, start, HEAD_SEEN);
  atomic.store<u32>(ring, start, HEAD);
  atomic.store<u32>(ring, start, TAIL);
}

/** Address of frame slot `slot` (0 to frames - 1). */
export function pcmRingSlotAddress(ring: usize, slot: u32): usize {
  return ring + HEADER_BYTES + slot * FRAME_BYTES;
}

/**
 * The slot the producer may fill next, or NO_SLOT (counted as a dropped frame) when the
 * ring is full. Producer thread only; publish the frame with `pcmRingCommit`.
 */
export function pcmRingWriteSlot(ring: usize): i32 {
  const frames = load<u32>(ring, FRAMES);
  const tail = load<u32>(ring, TAIL);
  if (tail - load<u32>(ring, HEAD_SEEN) >= frames) {
    const head = atomic.load<u32>(ring, HEAD);
    store<u32>(ring, head, HEAD_SEEN);
    if (tail - head >= frames) {
      atomic.store<u32>(ring, load<u32>(ring, DROPPED) + 1, DROPPED);
      return NO_SLOT;
    }
  }
  return <i32>(tail & (frames - 1));
}

/** Publishes the frame written into the slot from `pcmRingWriteSlot`. Producer thread only. */
export function pcmRingCommit(ring: usize): void {
  atomic.store<u32>(ring, load<u32>(ring, TAIL) + 1, TAIL);
  atomic.store<u32>(ring, load<u32>(ring, PUSHED) + 1, PUSHED);
}

/** The slot holding the oldest frame, or NO_SLOT when empty. Consumer thread only. */
export function pcmRingReadSlot(ring: usize): i32 {
  const head = load<u32>(ring, HEAD);
  if (head == load<u32>(ring, TAIL_SEEN)) {
    const tail = atomic.load<u32>(ring, TAIL);
    store<u32>(ring, tail, TAIL_SEEN);
    if (head == tail) return NO_SLOT;
  }
  return <i32>(head & (load<u32>(ring, FRAMES) - 1));
}

/** Frees the slot from `pcmRingReadSlot` for the producer. Consumer thread only. */
export function pcmRingRelease(ring: usize): void {
  atomic.store<u32>(ring, load<u32>(ring, HEAD) + 1, HEAD);
  atomic.store<u32>(ring, load<u32>(ring, POPPED) + 1, POPPED);
}

/** Copies one frame from `src` into the ring; false (counted) when full. Producer only. */
export function pcmRingPush(ring: usize, src: usize): bool {
  const slot = pcmRingWriteSlot(ring);
  if (slot == NO_SLOT) return false;
  memory.copy(pcmRingSlotAddress(ring, <u32>slot), src, FRAME_BYTES);
  pcmRingCommit(ring);
  return true;
}

/** Copies the oldest frame to `dst`; false when empty. Consumer thread only. */
export function pcmRingPop(ring: usize, dst: usize): bool {
  const slot = pcmRingReadSlot(ring);
  if (slot == NO_SLOT) return false;
  memory.copy(dst, pcmRingSlotAddress(ring, <u32>slot), FRAME_BYTES);
  pcmRingRelease(ring);
  return true;
}

/** Frames waiting. Any thread. */
export function pcmRingLength(ring: usize): u32 {
  const head = atomic.load<u32>(ring, HEAD);
  return atomic.load<u32>(ring, TAIL) - head;
}

/** Slots in the ring. */
export function pcmRingFrames(ring: usize): u32 {
  return load<u32>(ring, FRAMES);
}

/** Frames accepted since init. Any thread. */
export function pcmRingPushed(ring: usize): u32 {
  return atomic.load<u32>(ring, PUSHED);
}

/** Frames removed since init. Any thread. */
export function pcmRingPopped(ring: usize): u32 {
  return atomic.load<u32>(ring, POPPED);
}

/** Frames refused because the ring was full. Any thread. */
export function pcmRingDropped(ring: usize): u32 {
  return atomic.load<u32>(ring, DROPPED);
}
