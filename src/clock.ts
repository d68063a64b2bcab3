/** Wall-clock milliseconds since the Unix epoch. Injected so tests can drive time by hand. */
export type Clock = () => number;

/** The real clock. */
export const systemClock: Clock = () => Date.now();

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
