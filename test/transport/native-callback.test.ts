import { describe, expect, it } from 'vitest';

import { guardCallback } from '../../src/transport/native-callback.js';

describe('guardCallback', () => {
  it('passes arguments through', () => {
    const seen: unknown[] = [];
    const guarded = guardCallback(
      (a: number, b: string) => seen.push(a, b),
      () => undefined,
    );

    guarded(1, 'two');

    expect(seen).toEqual([1, 'two']);
  });

  it('hands a throw to onThrow instead of letting it escape', () => {
    const caught: unknown[] = [];
    const guarded = guardCallback(
      () => {
        throw new Error('boom');
      },
      (error) => caught.push(error),
    );

    expect(() => guarded()).not.toThrow();
    expect(caught).toEqual([new Error('boom')]);
  });

  it('hands a rejection to onThrow', async () => {
    const caught: unknown[] = [];
    const guarded = guardCallback(
      async () => {
        await Promise.resolve();
        throw new Error('later');
      },
      (error) => caught.push(error),
    );

    guarded();
    await new Promise((resolve) => setImmediate(resolve));

    expect(caught).toEqual([new Error('later')]);
  });

  it('drops what onThrow itself throws', () => {
    const guarded = guardCallback(
      () => {
        throw new Error('first');
      },
      () => {
        throw new Error('second');
      },
    );

    expect(() => guarded()).not.toThrow();
  });
});
