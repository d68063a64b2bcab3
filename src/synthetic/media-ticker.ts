/** Milliseconds between ticks: half a frame, so no frame is late by more than that. */
const TICK_MS = 10;

/**
 * One timer for every media stream of a process: calls each registered sender every 10 ms
 * with the current `performance.now()`, from which the sender works out how many 20 ms frames
 * are due (timers drift and fire late under load; counting from a start time does not).
 */
export class MediaTicker {
  readonly #senders = new Set<(now: number) => void>();
  #timer: NodeJS.Timeout | undefined;

  /** Registers a sender; returns the function that removes it. */
  add(sender: (now: number) => void): () => void {
    this.#senders.add(sender);
    this.#timer ??= setInterval(() => this.#tick(), TICK_MS);
    return () => {
      this.#senders.delete(sender);
      if (this.#senders.size === 0 && this.#timer !== undefined) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  #tick(): void {
    const now = performance.now();
    for (const sender of this.#senders) {
      try {
        sender(now);
      } catch {
        // One failing stream must not stop the others; the stream reports its own failure.
      }
    }
  }
}
