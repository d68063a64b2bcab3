// Where a jitter buffer keeps its fields: a header of u32 fields, then one 8-byte entry per
// slot (tag and length), then a staging area and the slots' packet bytes.

import { CACHE_LINE } from './layout';

// Configuration, written by init.
export const CAPACITY: u32 = 0;
export const SLOT_STRIDE: u32 = 4;
export const MAX_PACKET: u32 = 8;
export const MIN_DEPTH: u32 = 12;
export const MAX_DEPTH: u32 = 16;
export const SHRINK_AFTER: u32 = 20;

// Playout state.
export const MODE: u32 = 24;
export const NEXT_SEQ: u32 = 28;
export const HIGHEST_SEQ: u32 = 32;
export const BAD_SEQ: u32 = 36;
export const BUFFERED: u32 = 40;
export const DEPTH: u32 = 44;
export const CALM_TICKS: u32 = 48;
export const EXCESS_TICKS: u32 = 52;
export const REWINDABLE: u32 = 56;
export const STRETCH: u32 = 60;

// Counters.
export const RECEIVED: u32 = 64;
export const PLAYED: u32 = 68;
export const LOST: u32 = 72;
export const REORDERED: u32 = 76;
export const DUPLICATES: u32 = 80;
export const LATE: u32 = 84;
export const DISCARDED: u32 = 88;
export const RESYNCS: u32 = 92;
export const UNDERRUNS: u32 = 96;
export const INVALID: u32 = 100;

export const HEADER_BYTES: u32 = 2 * CACHE_LINE;

// A slot's tag says what it holds: nothing, a packet waiting to play, or the record of a
// packet already played (kept so a copy of it that turns up later counts as a duplicate
// rather than as late).
export const TAG_PRESENT: u32 = 0x10000;
export const TAG_PLAYED: u32 = 0x20000;
export const NO_SEQ: u32 = 0x10000;
export const SLOT_ENTRY_BYTES: u32 = 8;

export const MODE_IDLE: u32 = 0;
export const MODE_PREFETCH: u32 = 1;
export const MODE_PLAYING: u32 = 2;
export const MODE_REBUFFER: u32 = 3;

/** Reads a header field. */
export function get(jb: usize, field: u32): u32 {
  return load<u32>(jb + field);
}

/** Writes a header field. */
export function set(jb: usize, field: u32, value: u32): void {
  store<u32>(jb + field, value);
}

/** Adds one to a header counter. */
export function bump(jb: usize, field: u32): void {
  store<u32>(jb + field, load<u32>(jb + field) + 1);
}
