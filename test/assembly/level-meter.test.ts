import { beforeAll, describe, expect, it } from 'vitest';

import {
  AudioCoreError,
  FRAME_SAMPLES,
  LevelMeter,
  PcmRing,
  SILENCE_DBFS,
  type LevelMeterOptions,
} from '../../src/engine/audio-core.js';
import { loadCore, seededRandom, type CoreFixture } from './audio-core-fixture.js';

let fx: CoreFixture;

beforeAll(async () => {
  fx = await loadCore();
});

/** A 1 kHz sine at 48 kHz (exactly 20 cycles per frame) with the given peak. */
function sine(peak: number, samples = FRAME_SAMPLES): Int16Array {
  return Int16Array.from({ length: samples }, (_, i) =>
    Math.round(peak * Math.sin((2 * Math.PI * 1000 * i) / 48_000)),
  );
}

/** The RMS level in dBFS, worked out in plain JS. */
function referenceDbfs(frame: Int16Array): number {
  let sum = 0;
  for (const s of frame) sum += s * s;
  return 10 * Math.log10(sum / frame.length / 32_768 ** 2);
}

function meter(options: LevelMeterOptions = {}): LevelMeter {
  return LevelMeter.create(fx.core, fx.allocator, options);
}

describe('LevelMeter', () => {
  it('reads digital silence as the floor and not as voice', () => {
    const m = meter();
    expect(m.update(new Int16Array(FRAME_SAMPLES))).toBe(false);
    expect(m.level).toBe(SILENCE_DBFS);
    expect(m.active).toBe(false);
  });

  it('reads a full-scale sine as -3.01 dBFS', () => {
    const m = meter();
    expect(m.update(sine(32_767))).toBe(true);
    expect(m.level).toBeCloseTo(-3.0103, 3);
  });

  it('reads a full-scale square wave, down to -32768, as 0 dBFS', () => {
    const m = meter();
    const square = Int16Array.from({ length: FRAME_SAMPLES }, (_, i) => (i % 2 ? 32_767 : -32_768));
    expect(m.measure(square)).toBeCloseTo(0, 3);
    // Every sample at -32768: each pair of squares is 2^31, one past what an i32 holds.
    expect(m.measure(new Int16Array(FRAME_SAMPLES).fill(-32_768))).toBeCloseTo(0, 9);
  });

  it('reads a sine 20 dB down as 20 dB lower', () => {
    const m = meter();
    expect(m.measure(sine(3_277))).toBeCloseTo(-23.01, 1);
  });

  it('agrees with a plain computation for any frame length, vector tail included', () => {
    const m = meter();
    const random = seededRandom(3);
    for (const length of [1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 480, 959, 960]) {
      const frame = Int16Array.from({ length }, () => Math.floor(random() * 65_536) - 32_768);
      expect(m.measure(frame)).toBeCloseTo(referenceDbfs(frame), 9);
    }
  });

  it('clamps frames quieter than the floor to it', () => {
    // One least-significant bit in 8000 samples is about -129 dBFS.
    const m = meter({ maxSamples: 8_000 });
    const faint = new Int16Array(8_000);
    faint[0] = 1;
    expect(m.measure(faint)).toBe(SILENCE_DBFS);
    expect(m.measure(faint.subarray(0, FRAME_SAMPLES))).toBeCloseTo(-120.13, 2);
  });

  it('calls a frame at the threshold speech and one just under it silence', () => {
    const m = meter({ thresholdDbfs: -30, hangoverFrames: 0 });
    const atThreshold = sine(32_768 * Math.SQRT2 * 10 ** (-30 / 20) * 1.001);
    const under = sine(32_768 * Math.SQRT2 * 10 ** (-30 / 20) * 0.99);
    expect(m.update(atThreshold)).toBe(true);
    expect(m.update(under)).toBe(false);
  });

  it('stays active for the hangover after speech stops, then goes quiet', () => {
    const m = meter({ thresholdDbfs: -40, hangoverFrames: 3 });
    const speech = sine(8_000);
    const quiet = sine(10);

    const decisions = [speech, speech, quiet, quiet, quiet, quiet, quiet, speech, quiet].map(
      (frame) => m.update(frame),
    );
    expect(decisions).toEqual([true, true, true, true, true, false, false, true, true]);
    expect(m.stats()).toEqual({ frames: 9, speechFrames: 3, activeFrames: 7 });
  });

  it('measures a frame in place in a PCM ring the same as a copy of it', () => {
    const ring = PcmRing.create(fx.core, fx.allocator, { frames: 2 });
    const frame = sine(12_345);
    ring.push(frame);
    const m = meter();
    const inPlace = ring.peek();
    expect(inPlace).not.toBeNull();
    expect(m.measure(inPlace!)).toBe(m.measure(frame));
  });

  it('refuses a frame longer than it was sized for', () => {
    const m = meter({ maxSamples: 480 });
    expect(() => m.update(new Int16Array(481))).toThrow(AudioCoreError);
    expect(m.stats().frames).toBe(0);
  });
});
