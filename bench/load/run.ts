/**
 * `npm run load`: the bridge under a sustained call load. Starts a development homeserver, the
 * bridge as `voicebridge serve` in its own process, and synthetic encrypted callers in child
 * processes; places calls at CALLS_PER_SECOND while fewer than CONCURRENT_CALLS are up, each
 * held long enough that the load keeps CONCURRENT_CALLS up (when one ends another starts), for
 * TEST_DURATION seconds; meanwhile times `GET /api/calls` on the admin server. Then prints the
 * figures, writes them as JSON (`--out FILE`) and exits 1 when a target is missed.
 *
 * Runs inside a loopback-only network namespace, re-running itself under `unshare -rn` first
 * when needed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { AuditStore } from '../../src/audit/audit-store.js';
import { startDevServer, type DevServer } from '../../src/devserver/index.js';
import { MatrixHttp } from '../../src/matrix/matrix-http.js';
import { CallerFleet, type PlacedCall } from '../../src/synthetic/caller-fleet.js';
import type { CallReport } from '../../src/synthetic/call-report.js';
import { registerAccount } from '../../src/synthetic/register-account.js';
import { AdminClient } from './admin-client.js';
import { BridgeProcess } from './bridge-process.js';
import { LOAD_USAGE, LoadOptionError, parseLoadOptions, type LoadOptions } from './load-options.js';
import { buildResult, formatResult, type RunFigures } from './load-report.js';
import { ensureLoopbackOnly } from './netns.js';
import { histogramDelta, histogramOf, histogramQuantile, sampleOf } from './prometheus-text.js';

/** The package root, from dist/bench/load/. */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'cli.js');
/** How often the admin API's call list is timed, ms. */
const LISTING_EVERY_MS = 500;
/** How often the live calls with audio are counted, ms. */
const SAMPLE_EVERY_MS = 250;
/** Callers per caller process, about: each holds a crypto store and a sync. */
const CALLERS_PER_PROCESS = 25;
/** How long the warm-up calls are held, ms. */
const WARMUP_HOLD_MS = 1_000;
/** Past the last hold, how long the calls still up may take to end, ms. */
const DRAIN_GRACE_MS = 20_000;

async function main(): Promise<number> {
  let options: LoadOptions | 'help';
  try {
    options = parseLoadOptions(process.env, process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof LoadOptionError)) throw error;
    process.stderr.write(`load: ${error.message}\n\n${LOAD_USAGE}`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(LOAD_USAGE);
    return 0;
  }
  const reran = ensureLoopbackOnly();
  if (reran !== undefined) return reran;
  return run(options);
}

async function run(options: LoadOptions): Promise<number> {
  const { concurrentCalls, callsPerSecond, durationSeconds } = options;
  // A call lives long enough that calls placed at the rate keep the concurrency up.
  const holdMs = Math.round((concurrentCalls / callsPerSecond) * 1_000);
  const callers = concurrentCalls;
  const processes = Math.max(
    1,
    Math.min(availableParallelism(), Math.ceil(callers / CALLERS_PER_PROCESS)),
  );
  const dir = mkdtempSync(join(tmpdir(), 'vb-load-'));
  const say = (line: string): void => void process.stderr.write(`load: ${line}\n`);

  let server: DevServer | undefined;
  let bridge: BridgeProcess | undefined;
  let fleet: CallerFleet | undefined;
  let admin: AdminClient | undefined;
  try {
    server = await startDevServer();
    const http = new MatrixHttp({ baseUrl: server.url, ca: server.caPem });
    const botPassword = `load-${Math.random().toString(36).slice(2)}`;
    const bot = await registerAccount(http, `loadbot${Date.now().toString(36)}`, botPassword);
    http.close();

    say(`starting the bridge (voicebridge serve) for ${bot.userId}`);
    bridge = await BridgeProcess.start({
      cli: CLI,
      dir,
      homeserverUrl: server.url,
      caPem: server.caPem,
      botUserId: bot.userId,
      botPassword,
      maxConcurrentCalls: concurrentCalls * 2 + 10,
    });
    admin = new AdminClient(bridge.adminUrl);

    say(`registering ${callers} callers in ${processes} processes, each with an encrypted DM`);
    fleet = await CallerFleet.start({
      homeserverUrl: server.url,
      caPem: server.caPem,
      botUserId: bot.userId,
      processes,
      callers,
      namePrefix: 'load',
    });

    // Each caller's first call shares the room keys both ways; it is measured apart.
    say(`warm-up: one call per caller at ${callsPerSecond} calls/s`);
    const warmup: Array<Promise<CallReport>> = [];
    for (const caller of fleet.callers) {
      warmup.push(fleet.placeCall({ userId: caller.userId, holdMs: WARMUP_HOLD_MS }).report);
      await sleep(1_000 / callsPerSecond);
    }
    const warmupReports = await Promise.all(warmup);

    say(
      `load: up to ${concurrentCalls} calls at ${callsPerSecond} calls/s, each held ${holdMs} ms, for ${durationSeconds} s`,
    );
    const before = await admin.get('/metrics');
    const cpuBefore = bridge.cpuMs();
    const phase = await placeCalls(fleet, admin, {
      concurrentCalls,
      callsPerSecond,
      durationSeconds,
      holdMs,
    });
    const after = await admin.get('/metrics');
    const cpuAfter = bridge.cpuMs();

    await fleet.stop();
    fleet = undefined;
    admin.close();
    admin = undefined;
    say('stopping the bridge (SIGTERM)');
    const bridgeExitCode = await bridge.stop();

    const lateness = latenessOf(before.body, after.body);
    const audit = auditOf(bridge.auditPath, phase.reports);
    const inviteAt = new Map<string, number>();
    for (const report of phase.reports) {
      if (report.inviteSentAt !== undefined) inviteAt.set(report.callId, report.inviteSentAt);
    }
    const figures: RunFigures = {
      placingSeconds: durationSeconds,
      phaseSeconds: phase.seconds,
      sustained: phase.sustained,
      listingMs: phase.listingMs,
      listingFailures: phase.listingFailures,
      listedCounts: phase.listedCounts,
      bridgeAnsweredAt: bridge.answeredAt,
      inviteAt,
      tickLateness: lateness,
      bridgePackets: packetsOf(before.body, after.body),
      bridgeCpuShare:
        cpuBefore === undefined || cpuAfter === undefined
          ? undefined
          : (cpuAfter - cpuBefore) / (phase.seconds * 1_000),
      auditReasons: audit.reasons,
      auditMissing: audit.missing,
      bridgeExitCode,
    };
    const result = buildResult(
      {
        concurrent_calls: concurrentCalls,
        calls_per_second: callsPerSecond,
        test_duration_s: durationSeconds,
        hold_ms: holdMs,
        caller_processes: processes,
        callers,
      },
      phase.reports,
      warmupReports,
      figures,
    );
    process.stdout.write(formatResult(result));
    if (options.out !== undefined) {
      writeFileSync(options.out, JSON.stringify(result, null, 2) + '\n');
      say(`wrote ${options.out}`);
    }
    return result.passed ? 0 : 1;
  } finally {
    admin?.close();
    await fleet?.stop();
    if (bridge !== undefined && bridge.child.exitCode === null) await bridge.stop();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What the measured phase gathered. */
interface Phase {
  reports: CallReport[];
  seconds: number;
  sustained: number[];
  listingMs: number[];
  listingFailures: number;
  listedCounts: number[];
}

/**
 * Places calls at the rate while fewer than the concurrency are up, for the duration; then
 * waits for the calls still up to end. Meanwhile samples the calls with audio flowing (after
 * the ramp-up) and times the admin API's call list.
 */
async function placeCalls(
  fleet: CallerFleet,
  admin: AdminClient,
  load: {
    concurrentCalls: number;
    callsPerSecond: number;
    durationSeconds: number;
    holdMs: number;
  },
): Promise<Phase> {
  const started = performance.now();
  const end = started + load.durationSeconds * 1_000;
  const rampUp = started + (load.concurrentCalls / load.callsPerSecond) * 1_000 + 2_000;
  const placed: PlacedCall[] = [];
  const live = new Set<string>();
  const flowing = new Set<string>();
  const phase: Phase = {
    reports: [],
    seconds: 0,
    sustained: [],
    listingMs: [],
    listingFailures: 0,
    listedCounts: [],
  };

  let placing = true;
  const sampler = setInterval(() => {
    if (performance.now() >= rampUp && placing) phase.sustained.push(flowing.size);
  }, SAMPLE_EVERY_MS);
  const lister = (async () => {
    while (placing) {
      try {
        const answer = await admin.get('/api/calls');
        if (answer.status === 200) {
          phase.listingMs.push(answer.ms);
          phase.listedCounts.push((JSON.parse(answer.body) as { count: number }).count);
        } else {
          phase.listingFailures += 1;
        }
      } catch {
        phase.listingFailures += 1;
      }
      await sleep(LISTING_EVERY_MS);
    }
  })();

  const interval = 1_000 / load.callsPerSecond;
  let next = started;
  while (performance.now() < end) {
    if (live.size < load.concurrentCalls) {
      const call = fleet.placeCall({ holdMs: load.holdMs });
      placed.push(call);
      live.add(call.callId);
      void call.media.then(() => flowing.add(call.callId));
      void call.report.then(() => {
        live.delete(call.callId);
        flowing.delete(call.callId);
      });
    }
    next += interval;
    await sleep(Math.max(0, next - performance.now()));
  }
  placing = false;
  clearInterval(sampler);
  await lister;

  const drained = Promise.all(placed.map((call) => call.report));
  const deadline = sleep(load.holdMs + DRAIN_GRACE_MS, 'deadline' as const);
  if ((await Promise.race([drained, deadline])) === 'deadline') {
    for (const callId of live) fleet.hangup(callId);
  }
  phase.reports = await drained;
  phase.seconds = (performance.now() - started) / 1_000;
  return phase;
}

/** Tick lateness over the phase: quantiles of the histogram's growth between two scrapes. */
function latenessOf(before: string, after: string): RunFigures['tickLateness'] {
  const name = 'voicebridge_media_tick_lateness_seconds';
  const end = histogramOf(after, name);
  if (end === undefined) return { p50: null, p99: null, observations: 0 };
  const delta = histogramDelta(histogramOf(before, name), end);
  const toMs = (seconds: number | null): number | null =>
    seconds === null ? null : Math.round(seconds * 1_000 * 100) / 100;
  return {
    p50: toMs(histogramQuantile(delta, 0.5)),
    p99: toMs(histogramQuantile(delta, 0.99)),
    observations: delta.count,
  };
}

/** Packets the bridge received from callers, and counted lost, during the phase. */
function packetsOf(before: string, after: string): RunFigures['bridgePackets'] {
  const read = (text: string, name: string): number => sampleOf(text, `voicebridge_${name}`) ?? 0;
  const received =
    read(after, 'media_packets_received_total') - read(before, 'media_packets_received_total');
  const lost = read(after, 'media_packets_lost_total') - read(before, 'media_packets_lost_total');
  return { received, lost };
}

/** The audit records of the phase's answered calls, by end reason, and how many have none. */
function auditOf(
  path: string,
  reports: CallReport[],
): { reasons: Record<string, number>; missing: number } {
  const audit = AuditStore.openReadOnly(path);
  try {
    const records = new Map(audit.recent(100_000).map((r) => [r.call_id, r]));
    const reasons: Record<string, number> = {};
    let missing = 0;
    for (const report of reports) {
      if (report.inviteToAnswerMs === undefined) continue;
      const record = records.get(report.callId);
      if (record === undefined) {
        missing += 1;
        continue;
      }
      reasons[record.end_reason] = (reasons[record.end_reason] ?? 0) + 1;
    }
    return { reasons, missing };
  } finally {
    audit.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `load: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
