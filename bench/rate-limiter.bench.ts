/**
 * Speed and memory of the per-user rate limiter with a million users.
 *
 * Run standalone after building: `node --expose-gc dist/bench/rate-limiter.bench.js`.
 * Without `--expose-gc` the heap figures come out as NaN.
 */
import { pathToFileURL } from 'node:url';

import { do_not_optimize, measure } from 'mitata';

import { SlidingWindowRateLimiter } from '../src/policy/rate-limiter.js';
import { UserKeyHasher } from '../src/policy/user-key.js';
import { printTable } from './table.js';

const USERS = 1_000_000;
/** About 33 minutes: twice the user count, so the runs below step time in whole ms. */
const WINDOW_MS = 2 * USERS;
const LIMIT = 10;

/**
 * Matrix-like user ids. They go through JSON as ids from the network do, which leaves them
 * flat and laid out in order; concatenated strings would make every hash chase pointers.
 * The table is visited in random order anyway, since slots follow the hash.
 */
function userIds(count: number): string[] {
  const ids = Array.from({ length: count }, (_, i) => `@caller${i}:example.org`);
  return JSON.parse(JSON.stringify(ids)) as string[];
}

/** Bytes held by the V8 heap and by array buffers, after a full collection. */
function memoryNow(): { heap: number; buffers: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return { heap: Number.NaN, buffers: Number.NaN };
  gc();
  gc();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, buffers: usage.arrayBuffers };
}

/** Memory of one call for each of `ids`, in the limiter and, for scale, in a Map of arrays. */
function measureMemory(ids: readonly string[]): Record<string, number> {
  const before = memoryNow();
  let limiter: SlidingWindowRateLimiter | undefined = new SlidingWindowRateLimiter({
    limit: LIMIT,
    windowMs: WINDOW_MS,
  });
  const initialBytes = limiter.stateBytes;
  for (const id of ids) limiter.record(id, 0);
  const filled = memoryNow();
  const active = limiter.activeUsers;
  const stateBytesPerUser = limiter.stateBytes / active;

  limiter.sweep(WINDOW_MS);
  const afterSweep = limiter.stateBytes;
  const swept = memoryNow();
  const activeAfterSweep = limiter.activeUsers;
  limiter = undefined;

  // The Map gets its own copies of the ids, as it would keep them alive in real use, and
  // arrays filled the way a plain limiter would fill them: push an epoch timestamp.
  const json = JSON.stringify(ids);
  const at = Date.UTC(2026, 0, 1);
  let reference: Map<string, number[]> | undefined = new Map();
  const beforeReference = memoryNow();
  let copies: string[] | undefined = JSON.parse(json) as string[];
  for (const id of copies) {
    const calls: number[] = [];
    calls.push(at);
    reference.set(id, calls);
  }
  copies = undefined;
  const referenceFilled = memoryNow();
  const referenceUsers = reference.size;
  reference = undefined;

  return {
    users: active,
    state_bytes_per_user: stateBytesPerUser,
    heap_bytes_per_user: (filled.heap - before.heap) / active,
    buffer_bytes_per_user: (filled.buffers - before.buffers) / active,
    initial_state_bytes: initialBytes,
    state_bytes_after_sweep: afterSweep,
    active_users_after_sweep: activeAfterSweep,
    buffer_bytes_kept_after_sweep: swept.buffers - before.buffers,
    map_reference_heap_bytes_per_user:
      (referenceFilled.heap - beforeReference.heap) / referenceUsers,
  };
}

/** ns per operation, as mitata's mean and median over its samples. */
async function nsPer(name: string, fn: () => void): Promise<Record<string, number>> {
  const stats = await measure(fn);
  return { [`${name}_ns`]: stats.avg, [`${name}_p50_ns`]: stats.p50 };
}

/** Times the enforcer's path (`allows`, then `record` when allowed) over a million users. */
async function measureSpeed(ids: readonly string[]): Promise<Record<string, number>> {
  const count = ids.length;
  const figures: Record<string, number> = {};

  // Steady state: each user comes back half a window after its last call, so every visit
  // drops one expired call and admits one, and each user holds two calls.
  {
    const limiter = new SlidingWindowRateLimiter({ limit: LIMIT, windowMs: WINDOW_MS });
    const step = WINDOW_MS / (2 * count);
    let now = 0;
    let next = 0;
    const admit = (): void => {
      const id = ids[next]!;
      next = next + 1 === count ? 0 : next + 1;
      now += step;
      if (limiter.allows(id, now)) limiter.record(id, now);
    };
    for (let i = 0; i < 3 * count; i++) admit();
    Object.assign(figures, await nsPer('allows_record_1m_users', admit));
    figures.active_users_steady = limiter.activeUsers;
    figures.state_bytes_per_user_steady = limiter.stateBytes / limiter.activeUsers;
  }

  // Churn: each user comes back a whole window later, so its window has emptied: every
  // visit deletes the user and inserts it again.
  {
    const limiter = new SlidingWindowRateLimiter({ limit: LIMIT, windowMs: WINDOW_MS });
    const step = WINDOW_MS / count;
    let now = 0;
    let next = 0;
    const admit = (): void => {
      const id = ids[next]!;
      next = next + 1 === count ? 0 : next + 1;
      now += step;
      if (limiter.allows(id, now)) limiter.record(id, now);
    };
    for (let i = 0; i < 2 * count; i++) admit();
    Object.assign(figures, await nsPer('allows_record_emptied_window', admit));
  }

  // Denial: every user is at its limit, so only `allows` runs.
  {
    const limiter = new SlidingWindowRateLimiter({ limit: 1, windowMs: WINDOW_MS });
    for (const id of ids) limiter.record(id, 0);
    let next = 0;
    Object.assign(
      figures,
      await nsPer('allows_denied_1m_users', () => {
        const id = ids[next]!;
        next = next + 1 === count ? 0 : next + 1;
        do_not_optimize(limiter.allows(id, 1));
      }),
    );
  }

  // The share of the hash in the above.
  {
    const hasher = new UserKeyHasher();
    let next = 0;
    Object.assign(
      figures,
      await nsPer('hash_user_id', () => {
        hasher.hash(ids[next]!);
        next = next + 1 === count ? 0 : next + 1;
        do_not_optimize(hasher.a);
      }),
    );
  }

  return figures;
}

/** Runs every measurement and returns the figures by name. */
export async function run(): Promise<Record<string, number>> {
  const ids = userIds(USERS);
  const memory = measureMemory(ids);
  const speed = await measureSpeed(ids);
  return { ...speed, ...memory };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const figures = await run();
  printTable('rate limiter', figures);
  if (Number.isNaN(figures.heap_bytes_per_user)) console.log('heap figures need node --expose-gc');
}
