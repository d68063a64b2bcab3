import { setTimeout as sleep } from 'node:timers/promises';

import { MatrixError } from './matrix-error.js';

/** How hard to try. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** First backoff, doubled each time, in ms. */
  baseDelayMs: number;
  /** Longest single wait, in ms. */
  maxDelayMs: number;
}

/** For sends that must get through (hangups above all): about two minutes of trying. */
export const SEND_RETRY: RetryPolicy = { attempts: 10, baseDelayMs: 250, maxDelayMs: 30_000 };

/**
 * Runs `attempt` until it succeeds, retrying what is worth retrying (rate limits, server
 * errors, the network) with exponential backoff and full jitter, and waiting at least as long
 * as a 429 asks. Other errors are thrown at once.
 */
export async function withRetries<T>(
  attempt: () => Promise<T>,
  policy: RetryPolicy,
  random: () => number = Math.random,
  wait: (ms: number) => Promise<unknown> = sleep,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof MatrixError) || !error.retryable || n >= policy.attempts) throw error;
      const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (n - 1)) * random();
      await wait(Math.max(backoff, error.details.retryAfterMs ?? 0));
    }
  }
}
