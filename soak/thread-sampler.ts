import { readdirSync } from 'node:fs';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import type { RunningBridge } from '../src/bridge.js';
import { liveNativePeerCount } from '../src/transport/index.js';
import type { ResourceSample, ThreadSample } from './soak-record.js';

/**
 * Reads the figures of one sample from a running bridge in this process: the main thread's
 * memory and handles (after a full garbage collection when `gc` is exposed), each media
 * worker's latest report on itself, and every resource the bridge counts.
 */
export class ThreadSampler {
  readonly #bridge: RunningBridge;
  readonly #gc: (() => void) | undefined;

  constructor(bridge: RunningBridge) {
    this.#bridge = bridge;
    this.#gc = exposedGc();
  }

  /** Whether main-thread samples follow a full garbage collection. */
  get collects(): boolean {
    return this.#gc !== undefined;
  }

  /** Memory and handles of the main thread and of every media worker. */
  threads(): ThreadSample[] {
    this.#gc?.();
    const memory = process.memoryUsage();
    const heap = getHeapStatistics();
    const main: ThreadSample = {
      thread: 'main',
      rss: memory.rss,
      heapUsed: heap.used_heap_size,
      heapTotal: heap.total_heap_size,
      external: memory.external,
      arrayBuffers: memory.arrayBuffers,
      activeHandles: process.getActiveResourcesInfo().length,
      at: Date.now(),
    };
    const workers = this.#bridge.engine.threadStats().map(
      (w): ThreadSample => ({
        thread: `media-${w.loop}`,
        // rss is process-wide: the main thread's reading is the newer one.
        rss: memory.rss,
        heapUsed: w.heapUsed,
        heapTotal: w.heapTotal,
        external: w.external,
        arrayBuffers: w.arrayBuffers,
        activeHandles: w.activeHandles,
        at: w.at,
      }),
    );
    return [main, ...workers];
  }

  /** Every resource the bridge holds, counted where it is held. */
  resources(): ResourceSample {
    const { core, host, engine } = this.#bridge;
    const workers = engine.threadStats();
    const byKind: Record<string, number> = {};
    for (const kind of process.getActiveResourcesInfo()) byKind[kind] = (byKind[kind] ?? 0) + 1;
    return {
      liveCalls: host.liveCalls,
      slotsUsed: core.slots.capacity - core.slots.freeCount,
      slotsCapacity: core.slots.capacity,
      reservations: core.enforcer.liveCalls,
      auditPending: core.gate.pendingAuditRecords,
      peerConnections: liveNativePeerCount(),
      agentSockets: workers.reduce((sum, w) => sum + w.agents, 0),
      mediaCalls: engine.load().reduce((sum, n) => sum + n, 0),
      mediaLoops: engine.loops,
      workerThreads: engine.threads.length,
      fds: countEntries('/proc/self/fd'),
      osThreads: countEntries('/proc/self/task'),
      mainHandlesByKind: byKind,
    };
  }
}

/** Entries of a /proc folder, or -1 where there is none. */
function countEntries(dir: string): number {
  try {
    return readdirSync(dir).length;
  } catch {
    return -1;
  }
}

/**
 * The full garbage collection V8 offers with --expose-gc; turned on here when the process was
 * started without it (a test runner's worker), so main-thread samples always follow one.
 */
function exposedGc(): (() => void) | undefined {
  const global = (globalThis as { gc?: unknown }).gc;
  if (typeof global === 'function') return global as () => void;
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}
