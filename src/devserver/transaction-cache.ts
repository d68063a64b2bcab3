/** Answers remembered per device, so that no device's retries can grow the cache for long. */
const MAX_PER_DEVICE = 1000;

/**
 * Answers to requests with a transaction id, per device, so a retried request gets the first
 * answer back instead of acting twice (client-server spec, "Transaction identifiers"). The
 * request is named by its path, which holds the transaction id and what it applies to.
 *
 * Limitation: a device keeps its newest 1000 answers; a retry of an older one acts again.
 */
export class TransactionCache {
  /** Answers by device key, then by request path, oldest first. */
  readonly #answers = new Map<string, Map<string, unknown>>();

  /** The answer given to this device's earlier request of the same path, if any. */
  get(deviceKey: string, path: string): unknown {
    return this.#answers.get(deviceKey)?.get(path);
  }

  /** Remembers an answer. */
  set(deviceKey: string, path: string, answer: unknown): void {
    let answers = this.#answers.get(deviceKey);
    if (answers === undefined) {
      answers = new Map();
      this.#answers.set(deviceKey, answers);
    }
    answers.set(path, answer);
    if (answers.size > MAX_PER_DEVICE) {
      const oldest = answers.keys().next();
      if (oldest.done !== true) answers.delete(oldest.value);
    }
  }

  /** Forgets a device's answers. */
  removeDevice(deviceKey: string): void {
    this.#answers.delete(deviceKey);
  }
}
