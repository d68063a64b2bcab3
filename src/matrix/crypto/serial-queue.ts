/**
 * Runs tasks one at a time per key, in the order they were queued. A task that fails does
 * not stop the ones behind it. Keys with nothing queued hold no memory.
 */
export class SerialQueue<K = string> {
  /** The last queued task of each busy key; it settles when the key falls idle. */
  #tails = new Map<K, Promise<unknown>>();

  /** Queues `task` behind every task already queued for `key`, and settles with its outcome. */
  run<T>(key: K, task: () => Promise<T>): Promise<T> {
    const before = this.#tails.get(key) ?? Promise.resolve();
    const result = before.then(task, task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Resolves once every task queued so far, under every key, has settled. */
  async idle(): Promise<void> {
    while (this.#tails.size > 0) await Promise.all(this.#tails.values());
  }

  /** How many keys have tasks queued or running. */
  get busyKeys(): number {
    return this.#tails.size;
  }
}
