import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';

import { pino } from 'pino';

import { startBridge, type RunningBridge } from '../src/bridge.js';
import { defaultConfig } from '../src/config/load.js';
import type { Config } from '../src/config/types.js';
import { liveNativePeerCount } from '../src/transport/index.js';
import { SecurityLog } from '../src/telemetry/security-log.js';
import type { CallDriver, CallOutcome } from './call-driver.js';
import { registerBot } from './dev-bot.js';
import { startDevServerProcess } from './devserver-child.js';
import { writeMainSnapshot, writeWorkerSnapshot } from './heap-snapshot.js';
import { SampleLog } from './sample-log.js';
import type { SoakOptions } from './soak-options.js';
import type { SoakPhase } from './soak-record.js';
import { makeReport, type SoakReport } from './soak-report.js';
import { ThreadSampler } from './thread-sampler.js';

/** Where the callers find the bridge: what a call driver needs to start. */
export interface SoakTarget {
  homeserverUrl: string;
  caPem: string;
  botUserId: string;
  /** Calls the driver must be able to hold at once. */
  concurrentCalls: number;
  /** Caller processes to start. */
  callerProcesses: number;
}

/** Makes the call driver once the homeserver and the bridge run. */
export type DriverFactory = (target: SoakTarget) => Promise<CallDriver>;

/** Ways to watch or hook a run; the leak tests plant their leaks through `onBridge`. */
export interface SoakHooks {
  /**
   * Hears the bridge once it runs, before the first call. What it returns runs after the last
   * sample and heap snapshot, before the bridge stops.
   */
  onBridge?: (bridge: RunningBridge) => void | (() => void | Promise<void>);
  /** Progress lines; nowhere by default. */
  log?: (line: string) => void;
  /** Aborts the run: it drains, takes its last rest sample and reports, as at the end. */
  signal?: AbortSignal;
}

/** What a run leaves: its folder and its report. */
export interface SoakResult {
  dir: string;
  report: SoakReport;
}

/** How long a drain may wait for every call and peer connection to be given back. */
const DRAIN_TIMEOUT_MS = 20_000;
/** How long the peer count must stay put, above 0, before a drain stops waiting for it. */
const PEERS_SETTLED_MS = 2_000;
/** The ramp lasts one rotation and this much more, for the calls' set-up. */
const RAMP_EXTRA_MS = 2_000;
/** Worker threads report on themselves about once a second; a rest waits for a fresh report. */
const WORKER_REPORT_WAIT_MS = 1_500;

/**
 * Runs a soak: the development homeserver (its own process), the bridge in this process (so its
 * threads can be sampled and heap-snapshotted), and callers in their own processes placing real
 * calls, each held for CALL_ROTATION seconds and replaced, CONCURRENT_CALLS at a time. Samples go
 * to `samples.jsonl` as they are taken. At the end of warm-up and at the end the calls are
 * drained, a rest sample is taken and the heap snapshots written; then the report is made.
 */
export async function runSoak(
  options: SoakOptions,
  dir: string,
  makeDriver: DriverFactory,
  hooks: SoakHooks = {},
): Promise<SoakResult> {
  const say = hooks.log ?? (() => {});
  mkdirSync(dir, { recursive: true });
  const samples = new SampleLog(dir);
  const started = Date.now();
  samples.append({
    kind: 'start',
    at: started,
    options: {
      durationS: options.durationS,
      rotationS: options.rotationS,
      concurrentCalls: options.concurrentCalls,
      sampleIntervalS: options.sampleIntervalS,
      warmupS: options.warmupS,
      mediaWorkers: options.mediaWorkers,
    },
    node: process.version,
    host: { cpus: availableParallelism(), totalMemory: totalmem() },
  });

  const cleanups: (() => void | Promise<void>)[] = [];
  const runCleanups = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        say(`cleanup failed: ${String(error)}`);
      }
    }
  };
  let aborted: string | undefined;
  try {
    const server = await startDevServerProcess();
    cleanups.push(() => server.stop());
    say(`homeserver ${server.url} (pid ${server.pid})`);
    const password = `soak-${Math.random().toString(36).slice(2)}`;
    const botUserId = await registerBot(server.url, server.caPem, 'soakbot', password);
    const config = soakConfig(options, dir, server, botUserId, password);
    const bridgeLog = pino(
      { level: 'warn', base: { component: 'bridge' } },
      pino.destination({ dest: join(dir, 'bridge.log'), sync: true }),
    );
    const securityLog = SecurityLog.create(
      'warn',
      pino.destination({ dest: join(dir, 'security.log'), sync: true }),
    );
    const bridge = await startBridge(config, { security: securityLog, bridge: bridgeLog });
    cleanups.push(() => bridge.stop());
    say(`bridge ${bridge.userId} with ${options.mediaWorkers} media workers`);
    const undo = hooks.onBridge?.(bridge);

    const driver = await makeDriver({
      homeserverUrl: server.url,
      caPem: server.caPem,
      botUserId,
      concurrentCalls: options.concurrentCalls,
      callerProcesses: options.callerProcesses,
    });
    cleanups.push(() => driver.stop());
    // The plant's undo runs first of all, once the last sample is taken.
    if (typeof undo === 'function') cleanups.push(undo);
    say(`callers ready: ${options.callerProcesses} processes`);

    // The run's clock starts once everything is up: set-up time is not warm-up.
    const run = new SoakRun(options, dir, bridge, driver, samples, say);
    aborted = await run.execute(Date.now(), hooks.signal);
  } catch (error) {
    aborted = `error: ${error instanceof Error ? error.message : String(error)}`;
    say(`soak stopped: ${aborted}`);
  } finally {
    await runCleanups();
    samples.append({ kind: 'end', at: Date.now(), ...(aborted === undefined ? {} : { aborted }) });
    samples.close();
  }
  const report = makeReport(dir, options.thresholds);
  return { dir, report };
}

/** The bridge's config for a soak: policy that admits every call, its files in the run folder. */
function soakConfig(
  options: SoakOptions,
  dir: string,
  server: { url: string; caPem: string },
  botUserId: string,
  password: string,
): Config {
  const config = defaultConfig();
  const caFile = join(dir, 'homeserver-ca.pem');
  writeFileSync(caFile, server.caPem);
  // Room for twice the calls (a call replaced while its successor starts) and for leaks.
  config.voice.max_concurrent_calls = options.concurrentCalls * 2 + 32;
  config.voice.rate_limit_calls = 0;
  config.voice.default_duration_limit = Math.max(
    config.voice.default_duration_limit,
    (options.rotationS + 120) * 1000,
  );
  config.matrix.homeserver_url = server.url;
  config.matrix.user_id = botUserId;
  config.matrix.password = password;
  config.matrix.ca_file = caFile;
  config.matrix.store_dir = join(dir, 'bot-store');
  config.media.workers = options.mediaWorkers;
  config.media.bind_address = '127.0.0.1';
  config.audit.path = join(dir, 'audit.db');
  config.admin.enabled = false;
  config.log.level = 'warn';
  return config;
}

/** One run's timeline: warm-up, a rest, the soak, a drain and the last rest. */
class SoakRun {
  readonly #options: SoakOptions;
  readonly #dir: string;
  readonly #bridge: RunningBridge;
  readonly #driver: CallDriver;
  readonly #samples: SampleLog;
  readonly #sampler: ThreadSampler;
  readonly #say: (line: string) => void;
  #phase: SoakPhase = 'warmup';
  #placing = false;
  #lanes: Promise<void>[] = [];
  /** Wakes every sleeper early (a stop or an abort); each removes itself when it wakes. */
  readonly #wake = new Set<() => void>();
  #callsStarted = 0;
  #callsEnded = 0;
  #callsFailed = 0;
  #started = 0;

  constructor(
    options: SoakOptions,
    dir: string,
    bridge: RunningBridge,
    driver: CallDriver,
    samples: SampleLog,
    say: (line: string) => void,
  ) {
    this.#options = options;
    this.#dir = dir;
    this.#bridge = bridge;
    this.#driver = driver;
    this.#samples = samples;
    this.#sampler = new ThreadSampler(bridge);
    this.#say = say;
  }

  /** Runs the timeline; returns why it stopped early, if it did. */
  async execute(started: number, signal: AbortSignal | undefined): Promise<string | undefined> {
    this.#started = started;
    const o = this.#options;
    const timer = setInterval(() => this.#sample(false), o.sampleIntervalS * 1000);
    let aborted: string | undefined;
    const onAbort = (): void => {
      aborted = `aborted: ${String(signal?.reason ?? 'signal')}`;
      for (const wake of [...this.#wake]) wake();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted === true) onAbort();
    try {
      this.#say(`warm-up: ${o.warmupS} s`);
      this.#phase = 'warmup';
      this.#startPlacing();
      await this.#sleepUntil(started + o.warmupS * 1000, () => aborted !== undefined);
      if (aborted === undefined) {
        await this.#rest('warmup');
        // Rests do not eat into the soak: it gets its whole share of the run after them.
        const resumed = Date.now();
        const end = resumed + (o.durationS - o.warmupS) * 1000;
        this.#enter('ramp');
        this.#startPlacing();
        await this.#sleepUntil(
          resumed + RAMP_EXTRA_MS + o.rotationS * 1000,
          () => aborted !== undefined,
        );
        if (aborted === undefined) {
          this.#enter('soak');
          this.#say(`soak: until ${new Date(end).toISOString()}`);
          await this.#sleepUntil(end, () => aborted !== undefined);
        }
      }
      this.#enter('drain');
      await this.#rest('end');
    } finally {
      clearInterval(timer);
      signal?.removeEventListener('abort', onAbort);
      this.#placing = false;
    }
    return aborted;
  }

  /** Stops placing calls, hangs up the live ones, waits until all is given back, and samples. */
  async #rest(label: 'warmup' | 'end'): Promise<void> {
    this.#say(
      `draining calls for the rest at the ${label === 'warmup' ? 'end of warm-up' : 'end'}`,
    );
    await this.#stopPlacing();
    const { host, engine } = this.#bridge;
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (host.liveCalls + engine.load().reduce((sum, n) => sum + n, 0) === 0) break;
      await sleep(100);
    }
    // Peer connections are released a moment after their calls end: wait until none is left,
    // or until the count has not moved for a while (a leaked one never goes).
    let peers = liveNativePeerCount();
    let still = Date.now();
    while (peers > 0 && Date.now() < deadline && Date.now() - still < PEERS_SETTLED_MS) {
      await sleep(100);
      const now = liveNativePeerCount();
      if (now !== peers) still = Date.now();
      peers = now;
    }
    await sleep(WORKER_REPORT_WAIT_MS);
    if (!this.#options.heapSnapshots) {
      this.#sample(true, false);
      return;
    }

    this.#say(`heap snapshots (${label})`);
    const main = `heap-${label}-main.heapsnapshot`;
    writeMainSnapshot(join(this.#dir, main));
    this.#samples.append({ kind: 'snapshot', at: Date.now(), label, thread: 'main', file: main });
    let collected = true;
    for (const worker of engine.threads) {
      const file = `heap-${label}-worker-${worker.threadId}.heapsnapshot`;
      try {
        await writeWorkerSnapshot(worker, join(this.#dir, file));
        this.#samples.append({
          kind: 'snapshot',
          at: Date.now(),
          label,
          thread: `worker-${worker.threadId}`,
          file,
        });
      } catch (error) {
        collected = false;
        this.#say(`heap snapshot of worker ${worker.threadId} failed: ${String(error)}`);
      }
    }
    // The snapshots collected every worker: their next reports show what they really hold.
    await sleep(WORKER_REPORT_WAIT_MS);
    this.#sample(true, collected);
  }

  #enter(phase: SoakPhase): void {
    this.#phase = phase;
    this.#samples.append({ kind: 'phase', at: Date.now(), phase });
  }

  #sample(rest: boolean, workersCollected?: boolean): void {
    const at = Date.now();
    this.#samples.append({
      kind: 'sample',
      at,
      elapsed: (at - this.#started) / 1000,
      phase: this.#phase,
      rest,
      ...(workersCollected === undefined ? {} : { workersCollected }),
      callsStarted: this.#callsStarted,
      callsEnded: this.#callsEnded,
      callsFailed: this.#callsFailed,
      threads: this.#sampler.threads(),
      resources: this.#sampler.resources(),
    });
  }

  #startPlacing(): void {
    this.#placing = true;
    const { concurrentCalls, rotationS } = this.#options;
    // Lanes start spread over one rotation, so calls end and start a few at a time.
    const stagger = (rotationS * 1000) / concurrentCalls;
    this.#lanes = Array.from({ length: concurrentCalls }, (_, lane) => this.#lane(lane * stagger));
  }

  async #stopPlacing(): Promise<void> {
    this.#placing = false;
    for (const wake of [...this.#wake]) wake();
    this.#driver.hangupAll();
    await Promise.all(this.#lanes);
    this.#lanes = [];
  }

  async #lane(delayMs: number): Promise<void> {
    await this.#sleepUntil(Date.now() + delayMs, () => !this.#placing);
    while (this.#placing) {
      this.#callsStarted += 1;
      let outcome: CallOutcome;
      try {
        outcome = await this.#driver.place(this.#options.rotationS * 1000);
      } catch (error) {
        outcome = {
          callId: '(not placed)',
          ok: false,
          reason: `driver_error: ${error instanceof Error ? error.message : String(error)}`,
          durationMs: 0,
          packetsSent: 0,
          packetsReceived: 0,
        };
        // A driver that cannot place calls must not spin.
        await sleep(1000);
      }
      this.#callsEnded += 1;
      if (!outcome.ok) this.#callsFailed += 1;
      this.#samples.append({ kind: 'call', at: Date.now(), ...outcome });
    }
  }

  /** Sleeps until `until` (epoch ms) or until `stop()` turns true after a wake-up. */
  async #sleepUntil(until: number, stop: () => boolean): Promise<void> {
    while (!stop()) {
      const left = until - Date.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.#wake.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, 1000));
        this.#wake.add(done);
      });
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
