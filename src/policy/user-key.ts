import { randomFillSync } from 'node:crypto';

/** Per-character multipliers of the two halves (odd, so each step is a bijection). */
const STEP_A = 0x9e3779b1;
const STEP_B = 0x85ebca77;

/**
 * Hashes a user id into a 64-bit key held as two 32-bit halves, with seeds drawn at random
 * per instance so that nobody can prepare colliding ids in advance.
 *
 * `hash` writes its result to `a` and `b` instead of returning it: the limiter calls it on
 * every admission, and a returned pair would be an allocation.
 *
 * Limitation: this is a fast mixing hash, not a keyed pseudo-random function such as
 * SipHash. Random seeds defeat collisions computed ahead of time, but an attacker who could
 * learn the seeds (for instance by timing many lookups) could craft colliding ids.
 */
export class UserKeyHasher {
  /** Starting state of the first half. */
  readonly #seedA: number;
  /** Starting state of the second half. */
  readonly #seedB: number;
  /** First half of the last key, as a signed 32-bit integer; its low bits can index a table. */
  a = 0;
  /** Second half of the last key, as a signed 32-bit integer, computed independently of `a`. */
  b = 0;

  /** `seeds` fixes the hash for reproducible tests; leave it out in production. */
  constructor(seeds?: readonly [number, number]) {
    if (seeds === undefined) {
      const random = randomFillSync(new Int32Array(2));
      this.#seedA = random[0] ?? 0;
      this.#seedB = random[1] ?? 0;
      return;
    }
    this.#seedA = checkSeed('seeds[0]', seeds[0]);
    this.#seedB = checkSeed('seeds[1]', seeds[1]);
  }

  /** Hashes `user` into `a` and `b`, allocating nothing. */
  hash(user: string): void {
    let a = this.#seedA;
    let b = this.#seedB;
    const length = user.length;
    for (let i = 0; i < length; i++) {
      const unit = user.charCodeAt(i);
      // The shift folds high bits back down, so later characters meet all of the state;
      // the halves use different constants so a difference that cancels in one half does
      // not cancel the same way in the other.
      a = Math.imul(a ^ unit, STEP_A);
      a ^= a >>> 15;
      b = Math.imul(b ^ unit, STEP_B);
      b ^= b >>> 13;
    }
    // The length keeps "x" and "x\0"-style ids apart once the state is finished.
    this.a = avalanche(a ^ length);
    this.b = avalanche(b + length);
  }
}

/** Spreads every input bit over every output bit, so any bit range of the result is usable. */
function avalanche(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  return h ^ (h >>> 16);
}

function checkSeed(name: string, value: unknown): number {
  if (typeof value !== 'number') {
    throw new TypeError(`${name} must be a number, got ${typeof value}`);
  }
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0xffffffff) {
    throw new RangeError(`${name} must be a 32-bit integer, got ${value}`);
  }
  return value | 0;
}
