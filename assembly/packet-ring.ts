// A single-producer single-consumer ring of variable-length byte records (RTP packets) in
// shared memory. Each record is a 4-byte length followed by its bytes, padded to 4 bytes;
// a record that reaches the end of the data area continues at its start.
//
// `head` and `tail` are free-running 32-bit byte positions (the data index is the position
// masked by capacity - 1), so `tail - head` is the number of bytes in use even after the
// positions wrap past 2^32. Only the consumer writes `head` and only the producer writes
// `tail`; each publishes with an atomic store after its copy, so the other side never sees
// a position before the bytes behind it.

import { CACHE_LINE, alignUp } from './layout';

// Consumer line.
const HEAD: u32 = 0;
const POPPED: u32 = 4;
/** The consumer's last view of `tail`, so it reads the producer's line only when it runs dry. */
const TAIL_SEEN: u32 = 8;

// Producer line.
const TAIL: u32 = CACHE_LINE;
const PUSHED: u32 = CACHE_LINE + 4;
const DROPPED: u32 = CACHE_LINE + 8;
const OVERSIZE: u32 = CACHE_LINE + 12;
/** The producer's last view of `head`, so it reads the consumer's line only when it looks full. */
const HEAD_SEEN: u32 = CACHE_LINE + 16;

// Written once by init, read-only afterwards.
const CAPACITY: u32 = 2 * CACHE_LINE;
const MAX_RECORD: u32 = 2 * CACHE_LINE + 4;
const STAGING_BYTES: u32 = 2 * CACHE_LINE + 8;

const HEADER_BYTES: u32 = 3 * CACHE_LINE;
const LENGTH_PREFIX: u32 = 4;

/** Returned by `packetRingPop` when the ring holds no record. */
export const RING_EMPTY: i32 = -1;

/** Returned by `packetRingPop` when the next record is longer than the destination. */
export const RING_TOO_SMALL: i32 = -2;

function stagingBytes(maxRecord: u32): u32 {
  return alignUp(maxRecord, CACHE_LINE);
}

function dataStart(ring: usize): usize {
  return ring + HEADER_BYTES + 2 * load<u32>(ring, STAGING_BYTES);
}

function recordBytes(length: u32): u32 {
  return LENGTH_PREFIX + alignUp(length, 4);
}

/**
 * Bytes a ring needs: a header, one staging area per side (each `maxRecord` long, used by
 * that side's thread to pass records in and out) and `capacity` bytes of records.
 */
export function packetRingBytes(capacity: u32, maxRecord: u32): u32 {
  return HEADER_BYTES + 2 * stagingBytes(maxRecord) + capacity;
}

/**
 * Sets up an empty ring at `ring`. `capacity` is a power of two that can hold at least one
 * record of `maxRecord` bytes; `start` is the initial position (0 outside of tests).
 */
export function packetRingInit(ring: usize, capacity: u32, maxRecord: u32, start: u32): void {
  memory.fill(ring, 0, HEADER_BYTES);
  store<u32>(ring, capacity, CAPACITY);
  store<u32>(ring, maxRecord, MAX_RECORD);
  store<u32>(ring, stagingBytes(maxRecord), STAGING_BYTES);
  store<u32>(ring, start, TAIL_SEEN);
  store<u32>(ring, start, HEAD_SEEN);
  atomic.store<u32>(ring, start, HEAD);
  atomic.store<u32>(ring, start, TAIL);
}

/** Where the producer stages a record before `packetRingPush` (producer thread only). */
export function packetRingProducerStaging(ring: usize): usize {
  return ring + HEADER_BYTES;
}

/** Where the consumer receives a record from `packetRingPop` (consumer thread only). */
export function packetRingConsumerStaging(ring: usize): usize {
  return ring + HEADER_BYTES + load<u32>(ring, STAGING_BYTES);
}

/**
 * Appends `length` bytes from `src`. Producer thread only. Returns false, and counts the
 * record, when it is longer than `maxRecord` or when the ring has no room for it.
 */
export function packetRingPush(ring: usize, src: usize, length: u32): bool {
  if (length > load<u32>(ring, MAX_RECORD)) {
    atomic.store<u32>(ring, load<u32>(ring, OVERSIZE) + 1, OVERSIZE);
    return false;
  }

  const capacity = load<u32>(ring, CAPACITY);
  const need = recordBytes(length);
  const tail = load<u32>(ring, TAIL);
  let head = load<u32>(ring, HEAD_SEEN);
  if (capacity - (tail - head) < need) {
    head = atomic.load<u32>(ring, HEAD);
    store<u32>(ring, head, HEAD_SEEN);
    if (capacity - (tail - head) < need) {
      atomic.store<u32>(ring, load<u32>(ring, DROPPED) + 1, DROPPED);
      return false;
    }
  }

  // The prefix never splits: positions stay 4-aligned and capacity is a multiple of 4.
  const data = dataStart(ring);
  const mask = capacity - 1;
  const at = tail & mask;
  store<u32>(data + at, length);
  const body = (at + LENGTH_PREFIX) & mask;
  const first = min(length, capacity - body);
  memory.copy(data + body, src, first);
  if (first < length) memory.copy(data, src + first, length - first);

  atomic.store<u32>(ring, tail + need, TAIL);
  atomic.store<u32>(ring, load<u32>(ring, PUSHED) + 1, PUSHED);
  return true;
}

/** Finds the next record for the consumer, or returns false when the ring is empty. */
function hasRecord(ring: usize, head: u32): bool {
  if (head != load<u32>(ring, TAIL_SEEN)) return true;
  const tail = atomic.load<u32>(ring, TAIL);
  store<u32>(ring, tail, TAIL_SEEN);
  return head != tail;
}

/** Length of the next record, or RING_EMPTY. Consumer thread only. */
export function packetRingPeekLength(ring: usize): i32 {
  const head = load<u32>(ring, HEAD);
  if (!hasRecord(ring, head)) return RING_EMPTY;
  const mask = load<u32>(ring, CAPACITY) - 1;
  return <i32>load<u32>(dataStart(ring) + (head & mask));
}

/**
 * Removes the next record into `dst` (at most `room` bytes) and returns its length.
 * Consumer thread only. Returns RING_EMPTY when there is none, and RING_TOO_SMALL (leaving
 * the record in place) when it does not fit.
 */
export function packetRingPop(ring: usize, dst: usize, room: u32): i32 {
  const head = load<u32>(ring, HEAD);
  if (!hasRecord(ring, head)) return RING_EMPTY;

  const capacity = load<u32>(ring, CAPACITY);
  const mask = capacity - 1;
  const data = dataStart(ring);
  const at = head & mask;
  const length = load<u32>(data + at);
  if (length > room) return RING_TOO_SMALL;

  const body = (at + LENGTH_PREFIX) & mask;
  const first = min(length, capacity - body);
  memory.copy(dst, data + body, first);
  if (first < length) memory.copy(dst + first, data, length - first);

  atomic.store<u32>(ring, head + recordBytes(length), HEAD);
  atomic.store<u32>(ring, load<u32>(ring, POPPED) + 1, POPPED);
  return <i32>length;
}

/** Discards the next record; returns false when the ring is empty. Consumer thread only. */
export function packetRingSkip(ring: usize): bool {
  const head = load<u32>(ring, HEAD);
  if (!hasRecord(ring, head)) return false;
  const mask = load<u32>(ring, CAPACITY) - 1;
  const length = load<u32>(dataStart(ring) + (head & mask));
  atomic.store<u32>(ring, head + recordBytes(length), HEAD);
  atomic.store<u32>(ring, load<u32>(ring, POPPED) + 1, POPPED);
  return true;
}

/** Bytes of records (with their prefixes and padding) waiting in the ring. Any thread. */
export function packetRingUsedBytes(ring: usize): u32 {
  const head = atomic.load<u32>(ring, HEAD);
  return atomic.load<u32>(ring, TAIL) - head;
}

/** Data capacity in bytes. */
export function packetRingCapacity(ring: usize): u32 {
  return load<u32>(ring, CAPACITY);
}

/** Longest record the ring accepts. */
export function packetRingMaxRecord(ring: usize): u32 {
  return load<u32>(ring, MAX_RECORD);
}

/** Records accepted since init. Any thread. */
export function packetRingPushed(ring: usize): u32 {
  return atomic.load<u32>(ring, PUSHED);
}

/** Records removed since init. Any thread. */
export function packetRingPopped(ring: usize): u32 {
  return atomic.load<u32>(ring, POPPED);
}

/** Records refused because the ring was full. Any thread. */
export function packetRingDropped(ring: usize): u32 {
  return atomic.load<u32>(ring, DROPPED);
}

/** Records refused because they were longer than `maxRecord`. Any thread. */
export function packetRingOversize(ring: usize): u32 {
  return atomic.load<u32>(ring, OVERSIZE);
}
