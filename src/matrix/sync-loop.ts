import { setTimeout as sleep } from 'node:timers/promises';

import type { MatrixClient } from './matrix-client.js';
import { MatrixError } from './matrix-error.js';
import type { SyncResponse } from './sync-response.js';
import type { SyncTokenStore } from './sync-token-store.js';

/** What the bridge needs from sync, and nothing more: calls, membership and encryption. */
export const BRIDGE_SYNC_FILTER = {
  presence: { types: [] },
  account_data: { types: [] },
  room: {
    account_data: { types: [] },
    ephemeral: { types: [] },
    state: {
      types: ['m.room.member', 'm.room.encryption', 'm.room.create'],
      lazy_load_members: false,
    },
    timeline: {
      types: ['m.call.*', 'm.room.encrypted', 'm.room.member', 'm.room.encryption'],
      limit: 100,
    },
  },
};

/** Settings of the sync loop. */
export interface SyncLoopOptions {
  client: MatrixClient;
  userId: string;
  tokens: SyncTokenStore;
  /** Handles one batch; the position is saved only after it resolves. */
  onBatch: (sync: SyncResponse) => Promise<void>;
  /** Told of each failed sync before the loop backs off. */
  onError?: (error: unknown, retryInMs: number) => void;
  timeoutMs?: number;
}

/**
 * Long-polls /sync for the bridge. Each batch is handled to the end before its position is
 * saved, so a crash repeats at most the batch it was in. Failures back off exponentially with
 * jitter (up to a minute), and a 429 waits at least as long as it asks.
 */
export class SyncLoop {
  readonly #options: SyncLoopOptions;
  #running = false;
  /** Cuts a backoff wait short when the loop stops. */
  #wake = new AbortController();
  /** Resolves when the loop has stopped. */
  #stopped: Promise<void> = Promise.resolve();
  /** Sync requests that failed since the last one that worked. */
  #failures = 0;
  /** Whether a batch has been handled since the loop started. */
  #synced = false;

  constructor(options: SyncLoopOptions) {
    this.#options = options;
  }

  /** True once a batch has been handled and the latest sync request did not fail. */
  get healthy(): boolean {
    return this.#running && this.#synced && this.#failures === 0;
  }

  /** Starts syncing from the saved position. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#wake = new AbortController();
    this.#stopped = this.#run();
  }

  /** Stops: gives up the long-poll in flight; a batch being handled is finished first. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#wake.abort();
    await this.#stopped;
  }

  async #run(): Promise<void> {
    const { client, userId, tokens, onBatch, onError } = this.#options;
    const timeoutMs = this.#options.timeoutMs ?? 30_000;
    let filter: string | undefined;
    let since = tokens.load();

    while (this.#running) {
      try {
        filter ??= await client.createFilter(userId, BRIDGE_SYNC_FILTER);
        const sync = await client.sync({
          since,
          filter,
          timeoutMs: since === undefined ? 0 : timeoutMs,
          signal: this.#wake.signal,
        });
        if (typeof sync.next_batch !== 'string' || sync.next_batch === '') {
          throw new MatrixError('bad_response', 'sync answer lacks next_batch');
        }
        await onBatch(sync);
        tokens.save(sync.next_batch);
        since = sync.next_batch;
        this.#failures = 0;
        this.#synced = true;
      } catch (error) {
        if (!this.#running) break;
        this.#failures += 1;
        const backoff =
          Math.min(60_000, 500 * 2 ** Math.min(this.#failures, 7)) * (0.5 + Math.random() / 2);
        const wait =
          error instanceof MatrixError
            ? Math.max(backoff, error.details.retryAfterMs ?? 0)
            : backoff;
        onError?.(error, wait);
        await sleep(wait, undefined, { signal: this.#wake.signal }).catch(() => undefined);
      }
    }
  }
}
