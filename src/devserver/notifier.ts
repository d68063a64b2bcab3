/** A long-poll waiting for news for one user. */
type Waiter = () => void;

/**
 * Wakes the long-polling syncs of users when something that may concern them happens. A
 * woken sync recomputes its answer and waits again if there is nothing for it after all, so
 * waking too many is only a little wasted work, and waking too few is the bug to avoid.
 */
export class Notifier {
  /** Waiting syncs by user id. */
  readonly #waiters = new Map<string, Set<Waiter>>();
  /** Set once the server is closing: waits end at once. */
  #closed = false;

  /** Whether `closeAll` has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Long-polls currently waiting, over all users. */
  get waiting(): number {
    let count = 0;
    for (const set of this.#waiters.values()) count += set.size;
    return count;
  }

  /**
   * Resolves when `userId` is notified, after `timeoutMs`, when `signal` aborts, or when the
   * notifier closes, whichever is first.
   */
  wait(userId: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.#closed || signal.aborted || timeoutMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        const set = this.#waiters.get(userId);
        set?.delete(done);
        if (set?.size === 0) this.#waiters.delete(userId);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener('abort', done, { once: true });
      let set = this.#waiters.get(userId);
      if (set === undefined) {
        set = new Set();
        this.#waiters.set(userId, set);
      }
      set.add(done);
    });
  }

  /** Wakes every waiting sync of the given users. */
  notify(userIds: Iterable<string>): void {
    for (const userId of userIds) {
      const set = this.#waiters.get(userId);
      if (set === undefined) continue;
      for (const done of [...set]) done();
    }
  }

  /** Ends every wait now and every later one at once. */
  closeAll(): void {
    this.#closed = true;
    for (const set of [...this.#waiters.values()]) for (const done of [...set]) done();
  }
}
