/** A send rate: a sustained rate with room for a burst. */
export interface SendRateLimit {
  /** Sends allowed per second once the burst is spent; more than 0. */
  readonly messagesPerSecond: number;
  /** Sends allowed at once after a quiet period; at least 1. */
  readonly burst: number;
}

/** One user's bucket: tokens left, as of `at`. */
interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per user, as homeservers rate-limit room sends: each send takes a token,
 * tokens come back at `messagesPerSecond`, and at most `burst` are held.
 */
export class SendRateLimiter {
  /** The configured rate. */
  readonly #limit: SendRateLimit;
  /** Buckets by user id. */
  readonly #buckets = new Map<string, Bucket>();

  constructor(limit: SendRateLimit) {
    this.#limit = limit;
  }

  /**
   * Takes a token for `userId` at time `now` (ms). Returns 0 when the send may go ahead, or
   * the milliseconds until a token will be there (the send is refused and takes nothing).
   */
  take(userId: string, now: number): number {
    const { messagesPerSecond, burst } = this.#limit;
    const bucket = this.#buckets.get(userId) ?? { tokens: burst, at: now };
    const elapsed = Math.max(0, now - bucket.at);
    bucket.tokens = Math.min(burst, bucket.tokens + (elapsed * messagesPerSecond) / 1000);
    bucket.at = now;
    this.#buckets.set(userId, bucket);

    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - bucket.tokens) * 1000) / messagesPerSecond));
  }
}
