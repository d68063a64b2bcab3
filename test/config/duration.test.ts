import { describe, expect, it } from 'vitest';

import { formatDuration, parseDuration } from '../../src/config/duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['1d', 86_400_000],
    ['1.5s', 1_500],
    ['0', 0],
    [' 2m ', 120_000],
  ])('reads %j as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'h', '10', '-5s', '5 s', '1h 30m', '5x', '1h30', 'ms', '1e3s', 'NaNs'])(
    'refuses %j',
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );
});

describe('formatDuration', () => {
  it.each([0, 1, 500, 90_000, 3_600_000, 5_400_000, 86_400_000 + 1])(
    'formats %d ms so that it parses back to the same value',
    (ms) => {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    },
  );

  it('writes the shortest form', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(1_800_000)).toBe('30m');
  });
});

describe('parseDuration order', () => {
  it.each(['1h1h', '30m1h', '1s1m', '5ms5ms'])(
    'refuses repeated or out-of-order units in %j',
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );
});
