import { describe, expect, it } from 'vitest';

import { UserKeyHasher } from '../../src/policy/user-key.js';

/** The 64-bit key of `user`, as one string for comparisons. */
function keyOf(hasher: UserKeyHasher, user: string): string {
  hasher.hash(user);
  return `${hasher.a}:${hasher.b}`;
}

describe('UserKeyHasher', () => {
  it('gives the same key for the same id and seeds', () => {
    const first = new UserKeyHasher([1, 2]);
    const second = new UserKeyHasher([1, 2]);

    expect(keyOf(first, '@alice:example.org')).toBe(keyOf(second, '@alice:example.org'));
    expect(keyOf(first, '@alice:example.org')).toBe(keyOf(first, '@alice:example.org'));
  });

  it('gives different keys under different seeds', () => {
    const ids = Array.from({ length: 100 }, (_, i) => `@user${i}:example.org`);
    const first = new UserKeyHasher([1, 2]);
    const second = new UserKeyHasher([1, 3]);
    const third = new UserKeyHasher();

    for (const id of ids) {
      expect(keyOf(first, id)).not.toBe(keyOf(second, id));
      expect(keyOf(first, id)).not.toBe(keyOf(third, id));
    }
  });

  it('tells apart ids that differ only by a trailing NUL or by order', () => {
    const hasher = new UserKeyHasher([5, 6]);
    const keys = ['', '\0', 'x', 'x\0', '\0x', 'xy', 'yx'].map((id) => keyOf(hasher, id));

    expect(new Set(keys).size).toBe(keys.length);
  });

  it('gives 100,000 similar ids distinct keys spread evenly over the low bits', () => {
    const hasher = new UserKeyHasher([7, 8]);
    const keys = new Set<string>();
    const buckets = new Array<number>(1024).fill(0);
    for (let i = 0; i < 100_000; i++) {
      hasher.hash(`@user${i}:example.org`);
      keys.add(`${hasher.a}:${hasher.b}`);
      buckets[hasher.a & 1023]!++;
    }

    expect(keys.size).toBe(100_000);
    // About 98 per bucket: a count above 159 or below 46 has odds under 1 in 10^8 per bucket.
    expect(Math.max(...buckets)).toBeLessThan(160);
    expect(Math.min(...buckets)).toBeGreaterThan(45);
  });

  it('rejects seeds that are not 32-bit integers, naming the seed and value', () => {
    expect(() => new UserKeyHasher([1, 2 ** 32])).toThrow(
      new RangeError('seeds[1] must be a 32-bit integer, got 4294967296'),
    );
    expect(() => new UserKeyHasher(['1', 2] as never)).toThrow(
      new TypeError('seeds[0] must be a number, got string'),
    );
  });
});
