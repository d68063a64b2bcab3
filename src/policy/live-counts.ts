/**
 * Live calls per key (user or room). A key whose count falls to zero is kept for a while and
 * swept in batches: deleting from a Map one key at a time, with keys that rarely repeat,
 * makes V8 shrink and rehash the table over and over, which cost more than the rest of
 * admission together. Memory stays bounded: zeros never outnumber live keys by more than
 * `slack`.
 */
export class LiveCounts {
  readonly #counts = new Map<string, number>();
  /** Keys whose count is zero. */
  #zeros = 0;
  readonly #slack: number;

  constructor(slack = 1_024) {
    this.#slack = slack;
  }

  /** Live calls of `key`. */
  get(key: string): number {
    return this.#counts.get(key) ?? 0;
  }

  /** Adds a live call to `key`. */
  increment(key: string): void {
    const count = this.#counts.get(key);
    if (count === 0) this.#zeros -= 1;
    this.#counts.set(key, (count ?? 0) + 1);
  }

  /** Removes a live call from `key`; never goes below zero. */
  decrement(key: string): void {
    const count = this.#counts.get(key);
    if (count === undefined || count === 0) return;
    this.#counts.set(key, count - 1);
    if (count === 1) {
      this.#zeros += 1;
      if (this.#zeros > this.#slack) this.#sweep();
    }
  }

  /** Keys held, live or waiting to be swept (for tests and the state benchmark). */
  get size(): number {
    return this.#counts.size;
  }

  #sweep(): void {
    for (const [key, count] of this.#counts) if (count === 0) this.#counts.delete(key);
    this.#zeros = 0;
  }
}
