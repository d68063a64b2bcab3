// A jitter buffer for one RTP stream: packets go in as they arrive, in any order, and come
// out one per 20 ms tick in sequence order, with a gap reported for each missing packet so
// the caller can conceal it. One thread owns a buffer, so nothing here is atomic.
//
// Playout waits until `depth` packets' worth of sequence numbers are buffered, then plays one
// per tick. The depth adapts within [minDepth, maxDepth]: it grows at once when a packet
// arrives out of order (to one more than its displacement), arrives after its turn (by how
// late it was) or the buffer runs dry, and shrinks by one after `shrinkAfter` calm ticks.
// Growing while playing holds playout back one tick per packet of added depth (the caller
// conceals those ticks); when more is buffered than the depth needs for a while, one packet
// is dropped to cut the delay back. There is no time stretching: depth changes are heard as
// a short pause or a skipped frame.
//
// Sequence jumps follow the rules RFC 3550 (appendix A.1) gives for RTP receivers: a jump of
// up to MAX_DROPOUT ahead is loss, up to MAX_MISORDER behind is a late packet, and anything
// further is believed only when the next packet continues from it (the sender restarted).

import {
  BAD_SEQ,
  BUFFERED,
  CALM_TICKS,
  CAPACITY,
  DEPTH,
  DISCARDED,
  DUPLICATES,
  EXCESS_TICKS,
  HEADER_BYTES,
  HIGHEST_SEQ,
  INVALID,
  LATE,
  LOST,
  MAX_DEPTH,
  MAX_PACKET,
  MIN_DEPTH,
  MODE,
  MODE_IDLE,
  MODE_PLAYING,
  MODE_PREFETCH,
  MODE_REBUFFER,
  NEXT_SEQ,
  NO_SEQ,
  PLAYED,
  RECEIVED,
  REORDERED,
  RESYNCS,
  REWINDABLE,
  SHRINK_AFTER,
  SLOT_ENTRY_BYTES,
  SLOT_STRIDE,
  STRETCH,
  TAG_PLAYED,
  TAG_PRESENT,
  UNDERRUNS,
  bump,
  get,
  set,
} from './jitter-layout';
import { CACHE_LINE, alignUp } from './layout';
import { RING_TOO_SMALL, packetRingPop, packetRingSkip } from './packet-ring';
import { SEQ_HALF, SEQ_MASK, seqAdd, seqAhead } from './sequence';

const MAX_DROPOUT: u32 = 3000;
const MAX_MISORDER: u32 = 100;

/** Ticks the buffer must hold too much before one packet is dropped to cut the delay. */
const EXCESS_PATIENCE: u32 = 50;

const RTP_HEADER_BYTES: u32 = 12;

/** `jitterPop` result: the next packet is missing; conceal one frame. */
export const JITTER_GAP: i32 = -1;

/** `jitterPop` result: nothing to play yet (not started, filling, or ran dry). */
export const JITTER_EMPTY: i32 = -2;

/** `jitterInsert` result: the packet was stored. */
export const INSERT_STORED: i32 = 0;
/** `jitterInsert` result: a copy of this packet is held or was played. */
export const INSERT_DUPLICATE: i32 = 1;
/** `jitterInsert` result: the packet's turn has passed. */
export const INSERT_LATE: i32 = 2;
/** `jitterInsert` result: too long for a slot, or not an RTP packet. */
export const INSERT_INVALID: i32 = 3;
/** `jitterInsert` result: a far jump, dropped unless the next packet confirms it. */
export const INSERT_JUMP: i32 = 4;

function slotEntry(jb: usize, seq: u32): usize {
  return jb + HEADER_BYTES + (seq & (get(jb, CAPACITY) - 1)) * SLOT_ENTRY_BYTES;
}

function stagingStart(jb: usize): usize {
  return jb + alignUp(HEADER_BYTES + get(jb, CAPACITY) * SLOT_ENTRY_BYTES, CACHE_LINE);
}

function slotData(jb: usize, seq: u32): usize {
  const stride = get(jb, SLOT_STRIDE);
  return stagingStart(jb) + stride + (seq & (get(jb, CAPACITY) - 1)) * stride;
}

function raiseDepth(jb: usize, wanted: u32): void {
  const capped = min(wanted, get(jb, MAX_DEPTH));
  const depth = get(jb, DEPTH);
  if (capped > depth) {
    set(jb, DEPTH, capped);
    // While playing, the extra depth is built by holding playout back that many ticks.
    if (get(jb, MODE) == MODE_PLAYING) set(jb, STRETCH, get(jb, STRETCH) + capped - depth);
  }
  set(jb, CALM_TICKS, 0);
}

/** Stops playout until the depth is buffered again (startPlaying takes over). */
function refill(jb: usize): void {
  set(jb, MODE, MODE_REBUFFER);
  set(jb, STRETCH, 0);
}

/** Bytes a buffer of `capacity` slots, each holding up to `maxPacket` bytes, needs. */
export function jitterBytes(capacity: u32, maxPacket: u32): u32 {
  const stride = alignUp(maxPacket, 16);
  return alignUp(HEADER_BYTES + capacity * SLOT_ENTRY_BYTES, CACHE_LINE) + (capacity + 1) * stride;
}

/**
 * Sets up an empty buffer. `capacity` is a power of two, larger than twice `maxDepth`;
 * 1 <= `minDepth` <= `maxDepth`; `shrinkAfter` is in ticks.
 */
export function jitterInit(
  jb: usize,
  capacity: u32,
  maxPacket: u32,
  minDepth: u32,
  maxDepth: u32,
  shrinkAfter: u32,
): void {
  memory.fill(jb, 0, HEADER_BYTES + capacity * SLOT_ENTRY_BYTES);
  set(jb, CAPACITY, capacity);
  set(jb, SLOT_STRIDE, alignUp(maxPacket, 16));
  set(jb, MAX_PACKET, maxPacket);
  set(jb, MIN_DEPTH, minDepth);
  set(jb, MAX_DEPTH, maxDepth);
  set(jb, SHRINK_AFTER, shrinkAfter);
  set(jb, DEPTH, minDepth);
  set(jb, BAD_SEQ, NO_SEQ);
}

/** A scratch area of `maxPacket` bytes for moving packets in and out of the buffer. */
export function jitterStaging(jb: usize): usize {
  return stagingStart(jb);
}

/** Forgets every held packet and starts over from `seq`, as for a new stream. */
function restart(jb: usize, seq: u32): void {
  memory.fill(jb + HEADER_BYTES, 0, get(jb, CAPACITY) * SLOT_ENTRY_BYTES);
  set(jb, DISCARDED, get(jb, DISCARDED) + get(jb, BUFFERED));
  set(jb, BUFFERED, 0);
  set(jb, NEXT_SEQ, seq);
  set(jb, HIGHEST_SEQ, seq);
  set(jb, BAD_SEQ, NO_SEQ);
  set(jb, MODE, MODE_PREFETCH);
  set(jb, REWINDABLE, 1);
  set(jb, EXCESS_TICKS, 0);
  set(jb, STRETCH, 0);
}

/** Moves the play position forward to `target`, dropping held packets and losing the rest. */
function advanceTo(jb: usize, target: u32): void {
  let seq = get(jb, NEXT_SEQ);
  while (seq != target) {
    const entry = slotEntry(jb, seq);
    if (load<u32>(entry) == (TAG_PRESENT | seq)) {
      store<u32>(entry, 0);
      set(jb, BUFFERED, get(jb, BUFFERED) - 1);
      bump(jb, DISCARDED);
    } else {
      bump(jb, LOST);
    }
    seq = seqAdd(seq, 1);
  }
  set(jb, NEXT_SEQ, seq);
}

/** Stores a packet whose sequence number lies inside the window. */
function storePacket(jb: usize, seq: u32, src: usize, length: u32): i32 {
  const entry = slotEntry(jb, seq);
  const tag = load<u32>(entry);
  if (tag == (TAG_PRESENT | seq)) {
    bump(jb, DUPLICATES);
    return INSERT_DUPLICATE;
  }

  memory.copy(slotData(jb, seq), src, length);
  store<u32>(entry, TAG_PRESENT | seq);
  store<u32>(entry, length, 4);
  set(jb, BUFFERED, get(jb, BUFFERED) + 1);

  const highest = get(jb, HIGHEST_SEQ);
  const ahead = seqAhead(highest, seq);
  if (ahead == 0) return INSERT_STORED;
  if (ahead < SEQ_HALF) {
    set(jb, HIGHEST_SEQ, seq);
  } else {
    bump(jb, REORDERED);
    raiseDepth(jb, seqAhead(seq, highest) + 1);
  }
  return INSERT_STORED;
}

/** A packet from far outside the window: believed only if the one before it began the jump. */
function jump(jb: usize, seq: u32, src: usize, length: u32): i32 {
  if (seq != get(jb, BAD_SEQ)) {
    set(jb, BAD_SEQ, seqAdd(seq, 1));
    bump(jb, DISCARDED);
    return INSERT_JUMP;
  }
  bump(jb, RESYNCS);
  restart(jb, seq);
  return storePacket(jb, seq, src, length);
}

/**
 * Adds packet `seq` (16 bits) of `length` bytes at `src`. Returns an INSERT_* code; every
 * outcome is also counted.
 */
export function jitterInsert(jb: usize, seq: u32, src: usize, length: u32): i32 {
  if (length > get(jb, MAX_PACKET)) {
    bump(jb, INVALID);
    return INSERT_INVALID;
  }
  seq &= SEQ_MASK;
  bump(jb, RECEIVED);

  if (get(jb, MODE) == MODE_IDLE) restart(jb, seq);

  const capacity = get(jb, CAPACITY);
  const next = get(jb, NEXT_SEQ);
  const ahead = seqAhead(next, seq);
  if (ahead < capacity) return storePacket(jb, seq, src, length);

  if (ahead < SEQ_HALF) {
    if (ahead >= MAX_DROPOUT) return jump(jb, seq, src, length);
    // The stream went on without us (an outage): whatever lies before the new window is
    // lost, and playout restarts from what is held rather than concealing every hole.
    advanceTo(jb, seqAdd(seq, 1 - capacity));
    if (get(jb, MODE) == MODE_PLAYING) refill(jb);
    return storePacket(jb, seq, src, length);
  }

  const behind = seqAhead(seq, next);
  if (behind > MAX_MISORDER) return jump(jb, seq, src, length);

  // Before anything has played, an earlier packet can still open the stream.
  if (get(jb, REWINDABLE) != 0 && seqAhead(seq, get(jb, HIGHEST_SEQ)) < capacity) {
    set(jb, NEXT_SEQ, seq);
    return storePacket(jb, seq, src, length);
  }

  if (load<u32>(slotEntry(jb, seq)) == (TAG_PLAYED | seq)) {
    bump(jb, DUPLICATES);
    return INSERT_DUPLICATE;
  }
  bump(jb, LATE);
  raiseDepth(jb, get(jb, DEPTH) + behind);
  return INSERT_LATE;
}

/** Adds an RTP packet, reading its sequence number from the header. */
export function jitterInsertRtp(jb: usize, src: usize, length: u32): i32 {
  if (length < RTP_HEADER_BYTES || load<u8>(src) >> 6 != 2) {
    bump(jb, INVALID);
    return INSERT_INVALID;
  }
  const seq = ((<u32>load<u8>(src, 2)) << 8) | (<u32>load<u8>(src, 3));
  return jitterInsert(jb, seq, src, length);
}

/**
 * Moves every RTP packet waiting in packet ring `ring` into the buffer (this thread must be
 * the ring's consumer). Records too long for a slot are dropped and counted as invalid.
 * Returns how many records were taken from the ring.
 */
export function jitterDrainRing(jb: usize, ring: usize): u32 {
  const staging = stagingStart(jb);
  const room = get(jb, MAX_PACKET);
  let taken: u32 = 0;
  while (true) {
    const length = packetRingPop(ring, staging, room);
    if (length == RING_TOO_SMALL) {
      packetRingSkip(ring);
      bump(jb, INVALID);
    } else if (length < 0) {
      break;
    } else {
      jitterInsertRtp(jb, staging, <u32>length);
    }
    taken++;
  }
  return taken;
}

/** Adapts the depth once per playing tick; returns false when this tick plays nothing. */
function playingTick(jb: usize): bool {
  const calm = get(jb, CALM_TICKS) + 1;
  if (calm >= get(jb, SHRINK_AFTER)) {
    set(jb, CALM_TICKS, 0);
    if (get(jb, DEPTH) > get(jb, MIN_DEPTH)) set(jb, DEPTH, get(jb, DEPTH) - 1);
  } else {
    set(jb, CALM_TICKS, calm);
  }

  if (get(jb, BUFFERED) == 0) {
    bump(jb, UNDERRUNS);
    refill(jb);
    raiseDepth(jb, get(jb, DEPTH) + 1);
    return false;
  }

  const stretch = get(jb, STRETCH);
  if (stretch > 0) {
    set(jb, STRETCH, stretch - 1);
    return false;
  }

  const span = seqAhead(get(jb, NEXT_SEQ), get(jb, HIGHEST_SEQ)) + 1;
  if (span <= get(jb, DEPTH) + 1) {
    set(jb, EXCESS_TICKS, 0);
    return true;
  }
  const excess = get(jb, EXCESS_TICKS) + 1;
  if (excess < EXCESS_PATIENCE) {
    set(jb, EXCESS_TICKS, excess);
    return true;
  }
  set(jb, EXCESS_TICKS, 0);
  advanceTo(jb, seqAdd(get(jb, NEXT_SEQ), 1));
  return true;
}

/** Starts playing once enough is buffered; returns false while still filling. */
function startPlaying(jb: usize): bool {
  if (get(jb, BUFFERED) == 0) return false;

  // Whatever went missing while the buffer was filling or dry is lost already: waiting for
  // it, or playing a gap for each, would only add delay. The depth counts from what is here.
  let next = get(jb, NEXT_SEQ);
  if (load<u32>(slotEntry(jb, next)) != (TAG_PRESENT | next)) {
    set(jb, REWINDABLE, 0);
    do {
      bump(jb, LOST);
      next = seqAdd(next, 1);
    } while (load<u32>(slotEntry(jb, next)) != (TAG_PRESENT | next));
    set(jb, NEXT_SEQ, next);
  }
  if (seqAhead(next, get(jb, HIGHEST_SEQ)) + 1 < get(jb, DEPTH)) return false;

  set(jb, MODE, MODE_PLAYING);
  set(jb, REWINDABLE, 0);
  return true;
}

/**
 * Plays one tick: copies the next packet to `dst` (which must hold `maxPacket` bytes) and
 * returns its length, or returns JITTER_GAP (a packet is missing: conceal it) or
 * JITTER_EMPTY (nothing to play).
 */
export function jitterPop(jb: usize, dst: usize): i32 {
  const mode = get(jb, MODE);
  if (mode == MODE_IDLE) return JITTER_EMPTY;
  if (mode == MODE_PLAYING) {
    if (!playingTick(jb)) return JITTER_EMPTY;
  } else if (!startPlaying(jb)) {
    return JITTER_EMPTY;
  }

  const next = get(jb, NEXT_SEQ);
  set(jb, NEXT_SEQ, seqAdd(next, 1));
  const entry = slotEntry(jb, next);
  if (load<u32>(entry) != (TAG_PRESENT | next)) {
    bump(jb, LOST);
    return JITTER_GAP;
  }

  const length = load<u32>(entry, 4);
  memory.copy(dst, slotData(jb, next), length);
  store<u32>(entry, TAG_PLAYED | next);
  set(jb, BUFFERED, get(jb, BUFFERED) - 1);
  bump(jb, PLAYED);
  return <i32>length;
}
