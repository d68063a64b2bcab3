import { describe, expect, it } from 'vitest';

import { fitGrowth, tQuantile975 } from '../../soak/growth-fit.js';

/** A deterministic pseudo-random sequence in [-1, 1). */
function noise(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 31 - 1;
  };
}

describe('fitGrowth', () => {
  it('recovers the slope of an exact line with a zero-width interval', () => {
    const xs = [0, 1, 2, 3, 4, 5];
    const fit = fitGrowth(
      xs,
      xs.map((x) => 10 + 3 * x),
    );
    expect(fit?.slope).toBeCloseTo(3, 12);
    expect(fit?.intercept).toBeCloseTo(10, 12);
    expect(fit?.slopeHigh).toBeCloseTo(3, 9);
    expect(fit?.slopeLow).toBeCloseTo(3, 9);
  });

  it('puts the true slope inside the interval of a noisy line, and narrows it with more points', () => {
    const rand = noise(7);
    const series = (n: number) => {
      const xs = Array.from({ length: n }, (_, i) => i / (n - 1));
      return fitGrowth(
        xs,
        xs.map((x) => 50 + 2 * x + rand() * 0.5),
      );
    };
    const short = series(8);
    const long = series(400);
    for (const fit of [short, long]) {
      expect(fit?.slopeLow).toBeLessThan(2);
      expect(fit?.slopeHigh).toBeGreaterThan(2);
    }
    const width = (f: typeof short) => (f?.slopeHigh ?? 0) - (f?.slopeLow ?? 0);
    expect(width(long)).toBeLessThan(width(short) / 4);
  });

  it('widens the interval for a sawtooth (autocorrelated) series with no trend', () => {
    const xs = Array.from({ length: 120 }, (_, i) => i);
    const saw = xs.map((x) => (x % 30) * 0.2);
    const fit = fitGrowth(xs, saw);
    expect(fit?.residualAutocorrelation).toBeGreaterThan(0.5);
    expect(fit?.effectiveN).toBeLessThan(60);
    expect(fit?.slopeLow).toBeLessThan(0);
    expect(fit?.slopeHigh).toBeGreaterThan(0);
  });

  it('gives no fit for fewer than two distinct x, and an infinite interval for two points', () => {
    expect(fitGrowth([1], [1])).toBeUndefined();
    expect(fitGrowth([2, 2, 2], [1, 2, 3])).toBeUndefined();
    const two = fitGrowth([0, 1], [0, 5]);
    expect(two?.slope).toBe(5);
    expect(two?.slopeStdError).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('tQuantile975', () => {
  it('matches the table values and tends to the normal quantile', () => {
    expect(tQuantile975(1)).toBeCloseTo(12.706, 3);
    expect(tQuantile975(10)).toBeCloseTo(2.228, 3);
    expect(tQuantile975(60)).toBeCloseTo(2.0003, 3);
    expect(tQuantile975(1e6)).toBeCloseTo(1.96, 3);
  });
});

describe('fitGrowth on an exact line with rounding noise', () => {
  it('keeps the interval tight instead of reading the rounding as autocorrelation', () => {
    const xs = Array.from({ length: 50 }, (_, i) => i / 3600);
    const fit = fitGrowth(
      xs,
      xs.map((x) => 40 + 10_000 * x),
    );
    expect(fit?.slopeLow).toBeCloseTo(10_000, 3);
  });
});
