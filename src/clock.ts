/** Wall-clock milliseconds since the Unix epoch. Injected so tests can drive time by hand. */
export type Clock = () => number;

/**
 * The real clock: epoch milliseconds from this thread's start time plus a monotonic timer,
 * in whole milliseconds. Unlike Date.now it never steps when the system clock is set, so a
 * clock set back cannot stretch a call past its ceiling and a clock set forward cannot lock
 * users out of the rate limit. Every thread that checks limits uses this same clock.
 */
export const systemClock: Clock = () => Math.floor(performance.timeOrigin + performance.now());

/** A clock that only moves when told to, for tests and simulations. */
export class ManualClock {
  /** The current time, in milliseconds since the epoch. */
  #now: number;

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  /** The clock as a function, to inject. */
  readonly now: Clock = () => this.#now;

  /** Moves time forward by `ms` milliseconds. */
  advance(ms: number): void {
    this.#now += ms;
  }

  /** Sets the time. */
  set(ms: number): void {
    this.#now = ms;
  }
}
