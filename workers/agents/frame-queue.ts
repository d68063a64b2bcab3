import { FRAME_SAMPLES } from './agent.js';

/**
 * A bounded first-in first-out queue of 20 ms frames whose buffers are reused. When full, a new
 * frame pushes out the oldest one (late audio is worth less than current audio). A frame handed
 * out by `shift` stays untouched until the next `shift` or `clear`, so the media loop can read
 * it during its tick.
 */
export class FrameQueue {
  /** The most frames the queue holds. */
  readonly #capacity: number;
  /** Queued frames as a ring, oldest at #head. */
  readonly #ring: Int16Array[] = [];
  /** Where the oldest queued frame sits in #ring. */
  #head = 0;
  /** How many frames are queued. */
  #size = 0;
  /** Buffers not in use, kept for the next push. */
  readonly #spare: Int16Array[] = [];
  /** The frame `shift` last handed out, reclaimed at the next `shift`. */
  #lent: Int16Array | undefined;
  /** Frames pushed out unplayed because the queue was full. */
  #dropped = 0;

  /** A queue of at most `capacity` frames. Buffers are allocated only as the queue first fills. */
  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Frames queued now. */
  get length(): number {
    return this.#size;
  }

  /** Frames pushed out unplayed because the queue was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Makes room for a new newest frame, dropping the oldest if the queue is full, and returns
   * its buffer for the caller to fill at once.
   */
  push(): Int16Array {
    if (this.#size === this.#capacity) {
      this.#spare.push(this.#at(this.#head));
      this.#head = (this.#head + 1) % this.#capacity;
      this.#size -= 1;
      this.#dropped += 1;
    }

    const frame = this.#spare.pop() ?? new Int16Array(FRAME_SAMPLES);
    this.#ring[(this.#head + this.#size) % this.#capacity] = frame;
    this.#size += 1;
    return frame;
  }

  /** The oldest queued frame, or undefined when the queue is empty. */
  shift(): Int16Array | undefined {
    if (this.#lent !== undefined) this.#spare.push(this.#lent);
    this.#lent = undefined;
    if (this.#size === 0) return undefined;

    const frame = this.#at(this.#head);
    this.#head = (this.#head + 1) % this.#capacity;
    this.#size -= 1;
    this.#lent = frame;
    return frame;
  }

  /** Forgets every queued frame and lets the buffers go. */
  clear(): void {
    this.#ring.length = 0;
    this.#spare.length = 0;
    this.#lent = undefined;
    this.#head = 0;
    this.#size = 0;
  }

  #at(index: number): Int16Array {
    return this.#ring[index] as Int16Array;
  }
}
