import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';

import { SlidingWindowRateLimiter } from '../../src/policy/rate-limiter.js';
import { UserKeyHasher } from '../../src/policy/user-key.js';

const SEEDS: [number, number] = [0x1234567, 0x7654321];

/** The limit as the spec states it, kept as plainly as possible: a list of calls per user. */
class ReferenceLimiter {
  readonly calls = new Map<string, number[]>();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  #prune(user: string, now: number): number[] {
    const list = this.calls.get(user) ?? [];
    while (list.length > 0 && now - list[0]! >= this.windowMs) list.shift();
    if (list.length === 0) this.calls.delete(user);
    return list;
  }

  allows(user: string, now: number): boolean {
    return this.limit === 0 || this.#prune(user, now).length < this.limit;
  }

  record(user: string, now: number): void {
    if (this.limit === 0) return;
    const list = this.#prune(user, now);
    const newest = list.at(-1);
    list.push(newest !== undefined && newest > now ? newest : now);
    this.calls.set(user, list);
  }

  callsInWindow(user: string, now: number): number {
    if (this.limit === 0) return 0;
    return Math.min(this.#prune(user, now).length, this.limit);
  }

  retryAfterMs(user: string, now: number): number {
    if (this.limit === 0) return 0;
    const list = this.#prune(user, now);
    return list.length < this.limit ? 0 : list[list.length - this.limit]! + this.windowMs - now;
  }

  sweep(now: number): number {
    const before = this.calls.size;
    for (const user of [...this.calls.keys()]) this.#prune(user, now);
    return before - this.calls.size;
  }
}

/** Matrix-like ids, distinct for distinct `i`. */
function userId(i: number): string {
  return `@user${i}:example.org`;
}

describe('SlidingWindowRateLimiter', () => {
  it('counts a call until exactly windowMs has passed', () => {
    const limiter = new SlidingWindowRateLimiter({ limit: 1, windowMs: 1000 });
    limiter.record('@a:x', 5000);

    expect(limiter.allows('@a:x', 5999)).toBe(false);
    expect(limiter.callsInWindow('@a:x', 5999)).toBe(1);
    expect(limiter.allows('@a:x', 6000)).toBe(true);
    expect(limiter.callsInWindow('@a:x', 6000)).toBe(0);
  });

  it('frees the limit one call at a time as each call leaves the window', () => {
    const limiter = new SlidingWindowRateLimiter({ limit: 3, windowMs: 100 });
    for (const t of [0, 10, 20]) {
      expect(limiter.allows('@a:x', t)).toBe(true);
      limiter.record('@a:x', t);
    }

    expect(limiter.allows('@a:x', 99)).toBe(false);
    expect(limiter.callsInWindow('@a:x', 99)).toBe(3);
    expect(limiter.allows('@a:x', 100)).toBe(true);
    expect(limiter.callsInWindow('@a:x', 100)).toBe(2);
    limiter.record('@a:x', 100);
    expect(limiter.allows('@a:x', 109)).toBe(false);
    expect(limiter.allows('@a:x', 110)).toBe(true);
    expect(limiter.callsInWindow('@a:x', 120)).toBe(1);
    expect(limiter.callsInWindow('@a:x', 200)).toBe(0);
    expect(limiter.activeUsers).toBe(0);
  });

  it('denies a burst right after a window boundary when the previous window ended full', () => {
    const limiter = new SlidingWindowRateLimiter({ limit: 5, windowMs: 1000 });
    for (let i = 0; i < 5; i++) limiter.record('@a:x', 999);

    // A fixed window starting at 1000 would admit five more here.
    for (const t of [1000, 1001, 1500, 1998]) expect(limiter.allows('@a:x', t)).toBe(false);
    expect(limiter.allows('@a:x', 1999)).toBe(true);
  });

  it('never admits more than limit calls in any span of windowMs', () => {
    const limit = 5;
    const windowMs = 1000;
    const limiter = new SlidingWindowRateLimiter({ limit, windowMs });
    const admitted: number[] = [];
    for (let t = 0; t < 3500; t += 7) {
      if (limiter.allows('@greedy:x', t)) {
        limiter.record('@greedy:x', t);
        admitted.push(t);
      }
    }

    for (const start of admitted) {
      const inSpan = admitted.filter((t) => t >= start && t < start + windowMs).length;
      expect(inSpan).toBeLessThanOrEqual(limit);
    }
    expect(admitted).toHaveLength(20);
  });

  it('tells how long until the next call is allowed', () => {
    const limiter = new SlidingWindowRateLimiter({ limit: 2, windowMs: 100 });
    limiter.record('@a:x', 0);
    expect(limiter.retryAfterMs('@a:x', 10)).toBe(0);
    limiter.record('@a:x', 30);

    expect(limiter.retryAfterMs('@a:x', 50)).toBe(50);
    expect(limiter.retryAfterMs('@a:x', 99)).toBe(1);
    expect(limiter.retryAfterMs('@a:x', 100)).toBe(0);
  });

  it('keeps users apart, including the one asked about just before', () => {
    const limiter = new SlidingWindowRateLimiter({ limit: 1, windowMs: 100 });
    expect(limiter.allows('@a:x', 0)).toBe(true);
    limiter.record('@b:x', 0);

    expect(limiter.allows('@a:x', 1)).toBe(true);
    expect(limiter.allows('@b:x', 1)).toBe(false);
    expect(limiter.callsInWindow('@a:x', 1)).toBe(0);
  });

  it('hashes a user once for an allows followed by a record', () => {
    const limiter = new SlidingWindowRateLimiter({ limit: 2, windowMs: 100 });
    const hash = vi.spyOn(UserKeyHasher.prototype, 'hash');
    try {
      for (const t of [0, 10, 200]) {
        limiter.allows('@b:x', t);
        hash.mockClear();
        if (limiter.allows('@a:x', t)) limiter.record('@a:x', t);
        expect(hash).toHaveBeenCalledTimes(1);
      }
      expect(limiter.callsInWindow('@a:x', 200)).toBe(1);
    } finally {
      hash.mockRestore();
    }
  });

  it('applies no limit and stores nothing when limit is 0', () => {
    const limiter = new SlidingWindowRateLimiter({ limit: 0, windowMs: 1000 });
    for (let i = 0; i < 1000; i++) {
      expect(limiter.allows('@a:x', i)).toBe(true);
      limiter.record('@a:x', i);
      limiter.record(userId(i), i);
    }

    expect(limiter.allows('@a:x', 1000)).toBe(true);
    expect(limiter.callsInWindow('@a:x', 1000)).toBe(0);
    expect(limiter.retryAfterMs('@a:x', 1000)).toBe(0);
    expect(limiter.activeUsers).toBe(0);
    expect(limiter.stateBytes).toBe(0);
    expect(limiter.sweep(5000)).toBe(0);
  });

  it('keeps one user within limit timestamps however many calls are recorded', () => {
    const limiter = new SlidingWindowRateLimiter({ limit: 2, windowMs: 100, initialCapacity: 4 });
    const initialBytes = limiter.stateBytes;
    for (let i = 0; i < 10_000; i++) limiter.record('@a:x', 50);

    expect(limiter.callsInWindow('@a:x', 60)).toBe(2);
    expect(limiter.stateBytes).toBe(initialBytes);
    expect(limiter.allows('@a:x', 149)).toBe(false);
    expect(limiter.allows('@a:x', 150)).toBe(true);
  });

  it('counts a call recorded with a clock that went back until the later call leaves', () => {
    const limiter = new SlidingWindowRateLimiter({ limit: 2, windowMs: 100 });
    limiter.record('@a:x', 100);
    limiter.record('@a:x', 50);

    expect(limiter.callsInWindow('@a:x', 149)).toBe(2);
    expect(limiter.callsInWindow('@a:x', 199)).toBe(2);
    expect(limiter.callsInWindow('@a:x', 200)).toBe(0);
  });

  it('drops users whose window has emptied on sweep and returns storage to its initial size', () => {
    const limiter = new SlidingWindowRateLimiter({
      limit: 3,
      windowMs: 1000,
      initialCapacity: 16,
    });
    const initialBytes = limiter.stateBytes;
    for (let i = 0; i < 5000; i++) {
      limiter.record(userId(i), i % 2 === 0 ? 0 : 500);
      limiter.record(userId(i), 600);
    }
    expect(limiter.activeUsers).toBe(5000);
    expect(limiter.stateBytes).toBeGreaterThan(initialBytes);

    expect(limiter.sweep(1000)).toBe(0);
    expect(limiter.activeUsers).toBe(5000);
    expect(limiter.callsInWindow(userId(0), 1000)).toBe(1);
    expect(limiter.callsInWindow(userId(1), 1000)).toBe(2);

    expect(limiter.sweep(1600)).toBe(5000);
    expect(limiter.activeUsers).toBe(0);
    expect(limiter.stateBytes).toBe(initialBytes);
    expect(limiter.allows(userId(1), 1600)).toBe(true);
  });

  it('tracks 100,000 users through growth and shrinking', () => {
    const users = 100_000;
    const limiter = new SlidingWindowRateLimiter({ limit: 5, windowMs: 1000, initialCapacity: 8 });
    const initialBytes = limiter.stateBytes;
    /** Users whose count at `now` differs from `expected(i)`; one assertion, not 100,000. */
    const wrongCounts = (now: number, expected: (i: number) => number): number[] => {
      const wrong: number[] = [];
      for (let i = 0; i < users; i++) {
        if (limiter.callsInWindow(userId(i), now) !== expected(i)) wrong.push(i);
      }
      return wrong;
    };

    // User i has (i % 3) + 1 calls, at times 0, 1, 2.
    for (let i = 0; i < users; i++) {
      for (let t = 0; t <= i % 3; t++) limiter.record(userId(i), t);
    }
    expect(limiter.activeUsers).toBe(users);
    expect(wrongCounts(10, (i) => (i % 3) + 1)).toEqual([]);

    // At 1000 the calls at time 0 leave: users with one call go.
    expect(limiter.sweep(1000)).toBe(Math.ceil(users / 3));
    const bytesAfterFirstSweep = limiter.stateBytes;
    expect(limiter.activeUsers).toBe(users - Math.ceil(users / 3));
    expect(wrongCounts(1000, (i) => i % 3)).toEqual([]);

    // Users with two calls go at 1001; the rest keep one call.
    expect(limiter.sweep(1001)).toBe(Math.floor((users + 1) / 3));
    expect(limiter.stateBytes).toBeLessThan(bytesAfterFirstSweep);
    expect(wrongCounts(1001, (i) => (i % 3 === 2 ? 1 : 0))).toEqual([]);

    expect(limiter.sweep(1002)).toBe(Math.floor(users / 3));
    expect(limiter.activeUsers).toBe(0);
    expect(limiter.stateBytes).toBe(initialBytes);
  });

  it('still finds every user after deleting others from a run of colliding slots', () => {
    // With initialCapacity 8 the table has 16 slots, indexed by the low bits of the first
    // key half: pick ids homed at slots 14 and 15, so their run wraps past the end.
    const hasher = new UserKeyHasher(SEEDS);
    const homedAt = (home: number, wanted: number): string[] => {
      const ids: string[] = [];
      for (let i = 0; ids.length < wanted; i++) {
        hasher.hash(userId(i));
        if ((hasher.a & 15) === home) ids.push(userId(i));
      }
      return ids;
    };
    const ids = [...homedAt(14, 5), ...homedAt(15, 3)];
    const layouts = fc.sample(
      fc.tuple(
        fc.shuffledSubarray(ids, { minLength: ids.length, maxLength: ids.length }),
        fc.array(fc.boolean(), { minLength: ids.length, maxLength: ids.length }),
      ),
      { numRuns: 100, seed: 42 },
    );

    for (const [order, doomedFlags] of layouts) {
      const limiter = new SlidingWindowRateLimiter({
        limit: 2,
        windowMs: 100,
        initialCapacity: 8,
        seeds: SEEDS,
      });
      const initialBytes = limiter.stateBytes;
      const doomed = new Set(order.filter((_, i) => doomedFlags[i]));
      for (const id of order) limiter.record(id, doomed.has(id) ? 0 : 100);
      expect(limiter.stateBytes).toBe(initialBytes);

      let active = ids.length;
      for (const id of order) {
        if (!doomed.has(id)) continue;
        expect(limiter.allows(id, 100)).toBe(true);
        active--;
        expect(limiter.activeUsers).toBe(active);
        for (const other of ids) {
          if (!doomed.has(other)) expect(limiter.callsInWindow(other, 100)).toBe(1);
        }
      }
    }
  });

  it('agrees with a plain list of calls per user over random sequences', () => {
    const scenario = fc.record({
      limit: fc.integer({ min: 0, max: 4 }),
      windowMs: fc.integer({ min: 1, max: 40 }),
      initialCapacity: fc.integer({ min: 1, max: 4 }),
      seeds: fc.tuple(fc.integer(), fc.integer()),
      users: fc.uniqueArray(fc.string({ unit: 'binary', maxLength: 6 }), {
        minLength: 1,
        maxLength: 12,
      }),
      steps: fc.array(
        fc.record({
          op: fc.constantFrom('allows', 'record', 'record', 'count', 'retry', 'sweep'),
          user: fc.nat(),
          dt: fc.oneof(
            { weight: 8, arbitrary: fc.integer({ min: 0, max: 15 }) },
            { weight: 1, arbitrary: fc.integer({ min: -5, max: -1 }) },
            { weight: 1, arbitrary: fc.integer({ min: 30, max: 80 }) },
          ),
        }),
        // 'max' lets sequences reach their full length instead of staying small.
        { minLength: 1, maxLength: 300, size: 'max' },
      ),
    });

    fc.assert(
      fc.property(scenario, ({ limit, windowMs, initialCapacity, seeds, users, steps }) => {
        const limiter = new SlidingWindowRateLimiter({ limit, windowMs, initialCapacity, seeds });
        const reference = new ReferenceLimiter(limit, windowMs);
        const initialBytes = limiter.stateBytes;
        let now = Date.UTC(2026, 0, 1);
        for (const step of steps) {
          now += step.dt;
          const user = users[step.user % users.length]!;
          switch (step.op) {
            case 'allows':
              expect(limiter.allows(user, now)).toBe(reference.allows(user, now));
              break;
            case 'record':
              limiter.record(user, now);
              reference.record(user, now);
              break;
            case 'count':
              expect(limiter.callsInWindow(user, now)).toBe(reference.callsInWindow(user, now));
              break;
            case 'retry':
              expect(limiter.retryAfterMs(user, now)).toBe(reference.retryAfterMs(user, now));
              break;
            case 'sweep':
              expect(limiter.sweep(now)).toBe(reference.sweep(now));
              if (reference.calls.size === 0) expect(limiter.stateBytes).toBe(initialBytes);
              break;
          }
          expect(limiter.activeUsers).toBe(reference.calls.size);
        }
        for (const user of users) {
          expect(limiter.callsInWindow(user, now)).toBe(reference.callsInWindow(user, now));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('rejects bad options naming the option and the value', () => {
    const make = (options: Record<string, unknown>) => () =>
      new SlidingWindowRateLimiter({ limit: 1, windowMs: 1, ...options });

    expect(make({ limit: -1 })).toThrow(
      new RangeError('limit must be an integer from 0 to 2147483647, got -1'),
    );
    expect(make({ limit: 1.5 })).toThrow(RangeError);
    expect(make({ limit: '3' })).toThrow(new TypeError('limit must be a number, got string'));
    expect(make({ windowMs: 0 })).toThrow(/windowMs .* got 0/);
    expect(make({ windowMs: Number.NaN })).toThrow(/windowMs .* got NaN/);
    expect(make({ windowMs: undefined })).toThrow(TypeError);
    expect(make({ initialCapacity: 0 })).toThrow(/initialCapacity .* got 0/);
    expect(make({ seeds: [1, 0.5] })).toThrow(/seeds\[1\] .* got 0.5/);
    expect(() => new SlidingWindowRateLimiter(null as never)).toThrow(TypeError);
  });

  it('rejects a time that is not a finite number and a user that is not a string', () => {
    const limiter = new SlidingWindowRateLimiter({ limit: 1, windowMs: 1000 });

    expect(() => limiter.allows('@a:x', Number.NaN)).toThrow(
      new RangeError('now must be a finite number, got NaN'),
    );
    expect(() => limiter.record('@a:x', Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => limiter.sweep('5' as never)).toThrow(
      new TypeError('now must be a number, got string'),
    );
    expect(() => limiter.allows(42 as never, 0)).toThrow(
      new TypeError('user must be a string, got number'),
    );
    expect(limiter.activeUsers).toBe(0);
  });
});
