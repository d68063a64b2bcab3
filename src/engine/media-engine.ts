import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';

import { Piscina } from 'piscina';

import type {
  AgentSpec,
  FromWorker,
  MediaLoopTask,
  ToWorker,
  WorkerThreadStats,
} from '../../workers/media/media-messages.js';
import {
  AudioCore,
  PacketRing,
  RegionAllocator,
  compileAudioCore,
  createAudioMemory,
} from './audio-core.js';
import type { CallSession } from './call-session.js';
import type { CallSessions } from './call-sessions.js';
import { MediaLeg, type RtpSender } from './media-leg.js';

/** Settings of the media engine. */
export interface MediaEngineOptions {
  sessions: CallSessions;
  /** Worker threads; 0 picks cores - 1, at least 1. */
  workers: number;
  tickMs: number;
  agent: AgentSpec;
  /** The compiled worker entry; defaults to the package's dist/workers/media-worker.js. */
  workerFile?: string;
}

/** A media worker's report on its own thread, with the index of its loop. */
export type LoopThreadStats = WorkerThreadStats & { loop: number };

/** Hears a batch of tick lateness samples (ms) from one loop. */
export type TickListener = (latenessMs: readonly number[]) => void;

/** One worker's media loop, as the main thread sees it. */
interface Loop {
  index: number;
  port: MessagePort;
  legs: Set<MediaLeg>;
  /** Settles when the loop's task ends, by shutdown or by failure. */
  task: Promise<unknown>;
  ready: Promise<void>;
  /** True once the loop said it is ticking. */
  started: boolean;
  failed: boolean;
}

/** How long a worker may take to acknowledge a call added or removed. */
const ACK_TIMEOUT_MS = 5_000;

/**
 * The media engine on the main thread: a Piscina pool whose every worker runs one media loop
 * for its whole life, the shared audio memory where each call's two packet rings live, and a
 * drain that sends the workers' outgoing packets on each call's WebRTC track. Calls go to the
 * least-loaded loop. A worker that dies ends only its own calls, with media_worker_failed, and
 * a new loop takes its place.
 */
export class MediaEngine {
  readonly #sessions: CallSessions;
  readonly #pool: Piscina;
  readonly #core: AudioCore;
  readonly #allocator: RegionAllocator;
  readonly #options: MediaEngineOptions;
  /** Live loops by index; a failed loop is replaced under a new index. */
  readonly #loops = new Map<number, Loop>();
  /** Open legs by call id. */
  readonly #legs = new Map<string, MediaLeg>();
  /** Sends every leg's outgoing packets once per tick. */
  readonly #drain: NodeJS.Timeout;
  /** Who hears each batch of tick lateness samples. */
  readonly #tickListeners = new Set<TickListener>();
  /** What each running loop's worker last said about its own thread, by loop index. */
  readonly #threads = new Map<number, LoopThreadStats>();
  #nextLoop = 0;
  #closing = false;
  /** Workers that died and were replaced. */
  workerFailures = 0;

  private constructor(options: MediaEngineOptions, core: AudioCore, pool: Piscina) {
    this.#options = options;
    this.#sessions = options.sessions;
    this.#core = core;
    this.#allocator = RegionAllocator.forCore(core);
    this.#pool = pool;
    this.#drain = setInterval(() => this.#drainAll(), options.tickMs);
  }

  /** Starts the pool and waits until every loop is ticking. */
  static async start(options: MediaEngineOptions): Promise<MediaEngine> {
    const workers = options.workers > 0 ? options.workers : Math.max(1, availableParallelism() - 1);
    const module = await compileAudioCore();
    const core = AudioCore.instantiate(createAudioMemory(), module);
    const pool = new Piscina({
      filename: options.workerFile ?? defaultWorkerFile(),
      minThreads: workers,
      maxThreads: workers,
      // One long task per worker: no queue, no idle shutdown, and no Atomics.wait that would
      // freeze an idle worker's timers.
      concurrentTasksPerWorker: 1,
      idleTimeout: Number.POSITIVE_INFINITY,
      atomics: 'disabled',
    });
    const engine = new MediaEngine({ ...options, workers }, core, pool);
    try {
      await Promise.all(Array.from({ length: workers }, () => engine.#startLoop().ready));
    } catch (error) {
      await engine.shutdown();
      throw error;
    }
    return engine;
  }

  /** Loops running now (started and not failed). */
  get loops(): number {
    let running = 0;
    for (const loop of this.#loops.values()) if (loop.started && !loop.failed) running += 1;
    return running;
  }

  /** Calls per loop, for tests and metrics. */
  load(): number[] {
    return [...this.#loops.values()].map((loop) => loop.legs.size);
  }

  /** What each running media worker last reported about its own thread, in loop order. */
  threadStats(): LoopThreadStats[] {
    return [...this.#threads.values()];
  }

  /** Adds a listener for every batch of tick lateness samples; returns its removal. */
  onTicks(listener: TickListener): () => void {
    this.#tickListeners.add(listener);
    return () => this.#tickListeners.delete(listener);
  }

  /** The worker threads, for tests that kill one and for the soak runner's heap snapshots. */
  get threads(): readonly Worker[] {
    return this.#pool.threads;
  }

  /**
   * Opens a call's media: its rings, placed on the least-loaded loop. Packets given to
   * `leg.receive` go to the worker; the worker's packets go to `sender` once it is set.
   */
  async open(session: CallSession, sender: RtpSender): Promise<MediaLeg> {
    if (this.#closing) throw new Error('the media engine is shutting down');
    const loop = this.#leastLoaded();
    const inbound = PacketRing.create(this.#core, this.#allocator);
    const outbound = PacketRing.create(this.#core, this.#allocator);
    const leg = new MediaLeg(session, this.#sessions.slots, inbound, outbound, sender, loop.index);
    loop.legs.add(leg);
    this.#legs.set(session.callId, leg);

    const { reservation } = session;
    const added = leg.waitFor('added');
    post(loop.port, {
      type: 'add',
      call: {
        callId: session.callId,
        roomId: reservation.roomId,
        userId: reservation.userId,
        slot: session.handle,
        inboundRing: inbound.ptr,
        outboundRing: outbound.ptr,
        payloadType: sender.payloadType,
        ssrc: sender.ssrc,
      },
    });
    try {
      await withTimeout(added, ACK_TIMEOUT_MS, `media worker did not take call ${session.callId}`);
    } catch (error) {
      // Limitation: a worker that never answers may still take the call later; its rings are
      // then gone and it drops the call at its next remove or its death.
      this.#forget(leg);
      throw error;
    }
    return leg;
  }

  /**
   * Closes a call's media: the worker drops the call and closes its agent, then the rings are
   * freed. Idempotent; safe after the worker died.
   */
  async close(callId: string, reason: string): Promise<void> {
    const leg = this.#legs.get(callId);
    if (leg === undefined || leg.closing) return;
    leg.closing = true;
    const loop = this.#loops.get(leg.loop);
    if (loop !== undefined && !loop.failed) {
      const removed = leg.waitFor('removed');
      post(loop.port, { type: 'remove', callId, reason });
      await withTimeout(removed, ACK_TIMEOUT_MS, 'remove').catch(() => undefined);
    }
    this.#forget(leg);
  }

  /** Ends every loop and the pool. Calls still open are dropped without a word to the caller. */
  async shutdown(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#drain);
    for (const loop of this.#loops.values()) post(loop.port, { type: 'shutdown' });
    await Promise.allSettled([...this.#loops.values()].map((loop) => loop.task));
    for (const leg of [...this.#legs.values()]) this.#forget(leg);
    this.#legs.clear();
    await this.#pool.destroy();
  }

  #startLoop(): Loop {
    const index = this.#nextLoop++;
    const channel = new MessageChannel();
    let markReady: () => void = () => {};
    let markBroken: (error: unknown) => void = () => {};
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      markBroken = reject;
    });
    const task: MediaLoopTask = {
      loop: index,
      port: channel.port2,
      memory: this.#core.memory,
      module: this.#core.module,
      slots: this.#sessions.slots.shared,
      tickMs: this.#options.tickMs,
      agent: this.#options.agent,
    };
    const loop: Loop = {
      index,
      port: channel.port1,
      legs: new Set(),
      task: this.#pool.run(task, { transferList: [channel.port2] }),
      ready,
      started: false,
      failed: false,
    };
    channel.port1.on('message', (message: FromWorker) => {
      if (message.type === 'ready') {
        loop.started = true;
        markReady();
      } else {
        this.#onMessage(loop, message);
      }
    });
    loop.task.then(
      () => this.#loopEnded(loop, undefined),
      (error: unknown) => {
        markBroken(error);
        this.#loopEnded(loop, error);
      },
    );
    this.#loops.set(index, loop);
    return loop;
  }

  #onMessage(loop: Loop, message: Exclude<FromWorker, { type: 'ready' }>): void {
    if (message.type === 'ticks') {
      this.#threads.set(loop.index, { loop: loop.index, ...message.thread });
      for (const listener of this.#tickListeners) listener(message.latenessMs);
      return;
    }
    const leg = this.#legs.get(message.callId);
    if (leg === undefined || leg.loop !== loop.index) return;
    switch (message.type) {
      case 'added':
      case 'removed':
        leg.settle(message.type);
        break;
      case 'add_failed':
        leg.fail(
          'added',
          new Error(`media worker refused call ${message.callId}: ${message.message}`),
        );
        break;
      case 'model':
        leg.session.model = message.model;
        break;
      case 'check':
        leg.stopDetail ??= message.detail;
        this.#sessions.check(leg.session);
        break;
    }
  }

  /** A loop's task ended: by shutdown (nothing to do) or because its worker died. */
  #loopEnded(loop: Loop, error: unknown): void {
    this.#loops.delete(loop.index);
    this.#threads.delete(loop.index);
    loop.port.close();
    if (this.#closing) return;

    loop.failed = true;
    this.workerFailures += 1;
    // A loop that never started would fail again at once: do not restart it in a spin.
    const replace = loop.started;
    for (const leg of loop.legs) {
      leg.fail('added', new Error(`media worker failed: ${String(error)}`));
      leg.settle('removed');
      this.#sessions.stop(leg.session, 'media_worker_failed');
    }
    if (replace) this.#startLoop();
  }

  #leastLoaded(): Loop {
    let best: Loop | undefined;
    for (const loop of this.#loops.values()) {
      if (!loop.started || loop.failed) continue;
      if (best === undefined || loop.legs.size < best.legs.size) best = loop;
    }
    if (best === undefined) throw new Error('no media loop is running');
    return best;
  }

  #drainAll(): void {
    for (const leg of this.#legs.values()) leg.drain();
  }

  #forget(leg: MediaLeg): void {
    this.#loops.get(leg.loop)?.legs.delete(leg);
    if (this.#legs.get(leg.session.callId) === leg) this.#legs.delete(leg.session.callId);
    leg.release(this.#allocator);
  }
}

function post(port: MessagePort, message: ToWorker): void {
  port.postMessage(message);
}

/** dist/workers/media-worker.js, found from the package root above this module. */
function defaultWorkerFile(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the package root of the media engine');
    dir = parent;
  }
  return join(dir, 'dist', 'workers', 'media-worker.js');
}

/** Rejects with `what` unless `promise` settles within `ms`. */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
