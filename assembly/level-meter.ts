// Energy level and voice activity for 16-bit PCM frames. The level is the RMS of the frame
// in dB relative to digital full scale (a full-scale square wave is 0 dBFS, so a full-scale
// sine is about -3 dBFS). A frame at or above the threshold is speech; the meter then stays
// active for `hangover` more frames so the short pauses inside speech do not count as
// silence. One thread owns a meter.

import { CACHE_LINE } from './layout';

/** The level reported for digital silence; quieter levels are clamped to it. */
export const SILENCE_DBFS: f64 = -127;

// 10 * log10(32768^2): converts a mean square of samples to dBFS.
const FULL_SCALE_DB: f64 = 90.30899869919435;

const THRESHOLD: u32 = 0;
const LEVEL: u32 = 8;
const HANGOVER: u32 = 16;
const HANG_LEFT: u32 = 20;
const ACTIVE: u32 = 24;
const FRAMES: u32 = 28;
const ACTIVE_FRAMES: u32 = 32;
const SPEECH_FRAMES: u32 = 36;
const MAX_SAMPLES: u32 = 40;

const HEADER_BYTES: u32 = CACHE_LINE;

/** Sum of the squares of `count` samples at `samples`. */
function sumOfSquares(samples: usize, count: u32): i64 {
  // Each lane of the dot product holds two squares, at most 2^31: it fits a u32, not an i32,
  // so it is widened unsigned before being added up. Four accumulators keep the additions
  // independent so iterations overlap (about twice as fast as one).
  let a = i64x2.splat(0);
  let b = i64x2.splat(0);
  let c = i64x2.splat(0);
  let d = i64x2.splat(0);
  let i: u32 = 0;
  for (; i + 16 <= count; i += 16) {
    const at = samples + ((<usize>i) << 1);
    const v = v128.load(at);
    const w = v128.load(at, 16);
    const p = i32x4.dot_i16x8_s(v, v);
    const q = i32x4.dot_i16x8_s(w, w);
    a = i64x2.add(a, i64x2.extend_low_i32x4_u(p));
    b = i64x2.add(b, i64x2.extend_high_i32x4_u(p));
    c = i64x2.add(c, i64x2.extend_low_i32x4_u(q));
    d = i64x2.add(d, i64x2.extend_high_i32x4_u(q));
  }
  const wide = i64x2.add(i64x2.add(a, b), i64x2.add(c, d));
  let sum = i64x2.extract_lane(wide, 0) + i64x2.extract_lane(wide, 1);
  for (; i < count; i++) {
    const s = <i64>load<i16>(samples + ((<usize>i) << 1));
    sum += s * s;
  }
  return sum;
}

/** RMS level of `count` 16-bit samples at `samples`, in dBFS, never below SILENCE_DBFS. */
export function levelDbfs(samples: usize, count: u32): f64 {
  if (count == 0) return SILENCE_DBFS;
  const sum = sumOfSquares(samples, count);
  if (sum == 0) return SILENCE_DBFS;
  const level = 10 * Math.log10(<f64>sum / <f64>count) - FULL_SCALE_DB;
  return max(level, SILENCE_DBFS);
}

/** Bytes a meter for frames of up to `maxSamples` samples needs (with a staging area). */
export function meterBytes(maxSamples: u32): u32 {
  return HEADER_BYTES + maxSamples * 2;
}

/** Sets up a meter: speech at or above `thresholdDbfs`, held for `hangover` frames after. */
export function meterInit(meter: usize, maxSamples: u32, thresholdDbfs: f64, hangover: u32): void {
  memory.fill(meter, 0, HEADER_BYTES);
  store<f64>(meter, thresholdDbfs, THRESHOLD);
  store<f64>(meter, SILENCE_DBFS, LEVEL);
  store<u32>(meter, hangover, HANGOVER);
  store<u32>(meter, maxSamples, MAX_SAMPLES);
}

/** Where a frame can be staged before `meterUpdate`. */
export function meterStaging(meter: usize): usize {
  return meter + HEADER_BYTES;
}

/** Measures one frame and returns whether voice is active after it. */
export function meterUpdate(meter: usize, samples: usize, count: u32): bool {
  const level = levelDbfs(samples, count);
  store<f64>(meter, level, LEVEL);
  store<u32>(meter, load<u32>(meter, FRAMES) + 1, FRAMES);

  let active = true;
  if (level >= load<f64>(meter, THRESHOLD)) {
    store<u32>(meter, load<u32>(meter, HANGOVER), HANG_LEFT);
    store<u32>(meter, load<u32>(meter, SPEECH_FRAMES) + 1, SPEECH_FRAMES);
  } else {
    const left = load<u32>(meter, HANG_LEFT);
    if (left > 0) {
      store<u32>(meter, left - 1, HANG_LEFT);
    } else {
      active = false;
    }
  }

  store<u32>(meter, active ? 1 : 0, ACTIVE);
  if (active) store<u32>(meter, load<u32>(meter, ACTIVE_FRAMES) + 1, ACTIVE_FRAMES);
  return active;
}

/** Level of the last frame measured, in dBFS. */
export function meterLevel(meter: usize): f64 {
  return load<f64>(meter, LEVEL);
}

/** Whether voice was active after the last frame. */
export function meterActive(meter: usize): bool {
  return load<u32>(meter, ACTIVE) != 0;
}

/** Frames measured. */
export function meterFrames(meter: usize): u32 {
  return load<u32>(meter, FRAMES);
}

/** Frames at or above the threshold. */
export function meterSpeechFrames(meter: usize): u32 {
  return load<u32>(meter, SPEECH_FRAMES);
}

/** Frames during which voice was active, hangover included. */
export function meterActiveFrames(meter: usize): u32 {
  return load<u32>(meter, ACTIVE_FRAMES);
}

/** Largest frame, in samples, the staging area holds. */
export function meterMaxSamples(meter: usize): u32 {
  return load<u32>(meter, MAX_SAMPLES);
}
