import { fitGrowth, type GrowthFit } from './growth-fit.js';
import { finite, fmt, threadOrder } from './figures.js';
import { restCountChecks } from './rest-counts.js';
import type { LeakThresholds } from './soak-options.js';
import type { CallRecord, SampleRecord, SoakRecord, StartRecord } from './soak-record.js';

/** The kinds of leak the report names. */
export type LeakKind =
  | 'memory leak'
  | 'buffer leak'
  | 'session leak'
  | 'handle leak'
  | 'worker leak';

/** How bad a finding is; `inconclusive` and `ok` are reported but judge nothing. */
export type Severity = 'fail' | 'warn' | 'suspect' | 'inconclusive' | 'ok';

/** The verdict of a run. */
export type Verdict = 'pass' | 'warn' | 'fail';

/** A memory series after warm-up, fitted against time and against calls ended. */
export interface MemoryTrend {
  /** `<thread> <field>`, e.g. `main heapUsed`, or `process rss`. */
  series: string;
  kind: LeakKind;
  severity: Severity;
  samples: number;
  /** The span fitted, in hours. */
  spanHours: number;
  /** MB per hour with its 95 % interval; undefined when too few samples. */
  mbPerHour: number | undefined;
  mbPerHourLow: number | undefined;
  mbPerHourHigh: number | undefined;
  /** Fitted growth over the span, in MB, with its interval. */
  growthMb: number | undefined;
  growthMbLow: number | undefined;
  growthMbHigh: number | undefined;
  /** KB retained per call ended, with its interval (memory against calls ended). */
  kbPerCall: number | undefined;
  kbPerCallLow: number | undefined;
  kbPerCallHigh: number | undefined;
  /** Rest to rest change (end of warm-up to end), in MB, when both rests exist. */
  restDeltaMb: number | undefined;
}

/** A count compared between the rest at the end of warm-up and the rest at the end. */
export interface CountCheck {
  name: string;
  kind: LeakKind;
  severity: Severity;
  atWarmup: number | undefined;
  atEnd: number | undefined;
  /** What the count may be at the end. */
  allowed: string;
  /** The count against calls ended during the soak: gained per call, with its interval. */
  perCall: number | undefined;
  perCallLow: number | undefined;
  perCallHigh: number | undefined;
  detail?: string;
}

/** A named suspect: one line of the verdict. */
export interface Suspect {
  kind: LeakKind | 'failed calls';
  severity: Exclude<Severity, 'ok' | 'inconclusive'>;
  what: string;
  evidence: string;
}

/** Everything the report says, as data. */
export interface LeakAnalysis {
  verdict: Verdict;
  suspects: Suspect[];
  memory: MemoryTrend[];
  counts: CountCheck[];
  calls: { started: number; ended: number; failed: number; failedPercent: number };
  run: {
    start: StartRecord | undefined;
    samples: number;
    soakSamples: number;
    soakHours: number;
    finished: boolean;
    aborted: string | undefined;
    restAtWarmup: boolean;
    restAtEnd: boolean;
  };
  thresholds: LeakThresholds;
  notes: string[];
}

const MB = 1024 * 1024;

/** The memory fields fitted per thread, and the leak each would be. */
const THREAD_FIELDS: readonly [keyof MemFields, LeakKind][] = [
  ['heapUsed', 'memory leak'],
  ['arrayBuffers', 'buffer leak'],
  ['external', 'buffer leak'],
];

interface MemFields {
  heapUsed: number;
  arrayBuffers: number;
  external: number;
}

/** Judges a run from its records. */
export function analyseRun(
  records: readonly SoakRecord[],
  thresholds: LeakThresholds,
): LeakAnalysis {
  const samples = records.filter((r): r is SampleRecord => r.kind === 'sample');
  const start = records.find((r): r is StartRecord => r.kind === 'start');
  const end = records.find((r) => r.kind === 'end');
  const callRecords = records.filter((r): r is CallRecord => r.kind === 'call');
  const soak = samples.filter((s) => s.phase === 'soak' && !s.rest);
  const restWarmup = samples.find((s) => s.rest && s.phase === 'warmup');
  const restEnd = [...samples].reverse().find((s) => s.rest && s.phase === 'drain');
  const notes: string[] = [];

  const memory: MemoryTrend[] = [];
  const threads = new Set<string>();
  for (const s of soak) for (const t of s.threads) threads.add(t.thread);
  const workersCollected =
    restWarmup?.workersCollected === true && restEnd?.workersCollected === true;
  for (const thread of [...threads].sort(threadOrder)) {
    for (const [field, kind] of THREAD_FIELDS) {
      memory.push(
        memoryTrend(
          `${thread} ${field}`,
          kind,
          thread === 'main' ? 'collected' : workersCollected ? 'confirmed-at-rest' : 'uncollected',
          soak,
          thresholds,
          (s) => {
            const t = s.threads.find((x) => x.thread === thread);
            return t === undefined ? undefined : t[field];
          },
          restWarmup,
          restEnd,
        ),
      );
    }
  }
  memory.push(
    memoryTrend(
      'process rss',
      'memory leak',
      'footprint',
      soak,
      thresholds,
      (s) => s.threads[0]?.rss,
      restWarmup,
      restEnd,
    ),
  );
  if ([...threads].some((t) => t !== 'main')) {
    notes.push(
      workersCollected
        ? 'Media workers are sampled as they are, garbage and all; a worker series is named only ' +
            'when its rest samples (each taken after a full collection in every worker) grew too.'
        : 'Media workers are sampled as they are, garbage and all, and no rest sample followed a ' +
            'collection in them (HEAP_SNAPSHOTS=0, or a snapshot failed): worker series are at ' +
            'most inconclusive.',
    );
  }

  const counts = restCountChecks(soak, restWarmup, restEnd, thresholds, start);

  const lastSample = samples.at(-1);
  const callsStarted = lastSample?.callsStarted ?? 0;
  const ended = callRecords.length > 0 ? callRecords.length : (lastSample?.callsEnded ?? 0);
  const failed =
    callRecords.length > 0
      ? callRecords.filter((c) => !c.ok).length
      : (lastSample?.callsFailed ?? 0);
  const failedPercent = ended === 0 ? 0 : (100 * failed) / ended;

  const suspects: Suspect[] = [];
  if (ended === 0) {
    suspects.push({
      kind: 'failed calls',
      severity: 'fail',
      what: 'no call completed',
      evidence: `${callsStarted} calls started, none ended`,
    });
  } else if (failedPercent > thresholds.maxFailedPercent) {
    suspects.push({
      kind: 'failed calls',
      severity: 'fail',
      what: `${failedPercent.toFixed(1)} % of calls failed`,
      evidence: `${failed} of ${ended} calls failed (limit ${thresholds.maxFailedPercent} %): ${failureReasons(callRecords)}`,
    });
  }
  for (const m of memory) {
    if (m.severity === 'ok' || m.severity === 'inconclusive') continue;
    suspects.push({
      kind: m.kind,
      severity: m.severity,
      what: m.series,
      evidence:
        `${fmt(m.mbPerHour)} MB/hour (95 % ${fmt(m.mbPerHourLow)} to ${fmt(m.mbPerHourHigh)}), ` +
        `${fmt(m.growthMb)} MB over ${fmt((m.spanHours ?? 0) * 60)} min, ` +
        `${fmt(m.kbPerCall)} KB per call (95 % ${fmt(m.kbPerCallLow)} to ${fmt(m.kbPerCallHigh)})`,
    });
  }
  for (const c of counts) {
    if (c.severity === 'ok' || c.severity === 'inconclusive') continue;
    suspects.push({
      kind: c.kind,
      severity: c.severity,
      what: c.name,
      evidence:
        `${c.atWarmup ?? '?'} at rest after warm-up, ${c.atEnd ?? '?'} at rest at the end ` +
        `(allowed ${c.allowed}); ${fmt(c.perCall, 3)} per call ended` +
        (c.detail === undefined ? '' : `; ${c.detail}`),
    });
  }

  const soakHours =
    soak.length > 1 ? ((soak.at(-1) as SampleRecord).at - (soak[0] as SampleRecord).at) / 3.6e6 : 0;
  if (soakHours < 1) {
    notes.push(
      `Growth was measured over ${fmt(soakHours * 60)} min after warm-up. MB/hour figures are ` +
        'extrapolated from that span; their 95 % intervals say how far they can be trusted, and a ' +
        'short run leaves them wide. Only a rate whose whole interval lies above the limit, and ' +
        'growth surely above the resolution over the span, is named; the rest is inconclusive.',
    );
  }
  const lastBeforeRest = samples.filter((x) => x.phase === 'warmup' && !x.rest).at(-1);
  const firstAfterRest = samples.find((x) => x.phase === 'ramp' || x.phase === 'soak');
  if (
    lastBeforeRest !== undefined &&
    firstAfterRest !== undefined &&
    records.some((r) => r.kind === 'snapshot' && r.label === 'warmup')
  ) {
    const rss = (x: SampleRecord): number => x.threads[0]?.rss ?? 0;
    notes.push(
      `The process RSS rose ${((rss(firstAfterRest) - rss(lastBeforeRest)) / MB).toFixed(0)} MB ` +
        'across the rest and the heap snapshots at the end of warm-up (writing them takes memory ' +
        'the allocator keeps); the fit starts after them.',
    );
  }
  if (restWarmup === undefined)
    notes.push('No rest sample at the end of warm-up: counts are compared with zero.');
  if (restEnd === undefined) {
    notes.push(
      'No rest sample at the end (the run was stopped early or killed): counts were not checked at rest.',
    );
  }
  const aborted = end !== undefined && 'aborted' in end ? end.aborted : undefined;
  if (end === undefined)
    notes.push(
      'The run has no end record: it was killed or crashed; this report is made from the samples written until then.',
    );
  if (aborted !== undefined) notes.push(`The run stopped early: ${aborted}.`);
  if (soak.length < 3)
    notes.push(`Only ${soak.length} samples after warm-up: too few to fit growth.`);

  const order: Record<Suspect['severity'], number> = { fail: 0, warn: 1, suspect: 2 };
  suspects.sort((a, b) => order[a.severity] - order[b.severity]);
  const verdict: Verdict = suspects.some((s) => s.severity === 'fail')
    ? 'fail'
    : suspects.length > 0
      ? 'warn'
      : 'pass';

  return {
    verdict,
    suspects,
    memory,
    counts,
    calls: { started: callsStarted, ended, failed, failedPercent },
    run: {
      start,
      samples: samples.length,
      soakSamples: soak.length,
      soakHours,
      finished: end !== undefined,
      aborted,
      restAtWarmup: restWarmup !== undefined,
      restAtEnd: restEnd !== undefined,
    },
    thresholds,
    notes,
  };
}

/**
 * How a memory series may be judged: `collected` samples follow a full collection (the main
 * thread); a `confirmed-at-rest` series (a worker's) is named only when its collected rest
 * samples grew as well; an `uncollected` one never above inconclusive; the `footprint` (RSS,
 * which also holds the workers' garbage and what the allocator keeps) by the limits only.
 */
type Judging = 'collected' | 'confirmed-at-rest' | 'uncollected' | 'footprint';

function memoryTrend(
  series: string,
  kind: LeakKind,
  judging: Judging,
  soak: readonly SampleRecord[],
  t: LeakThresholds,
  read: (s: SampleRecord) => number | undefined,
  restWarmup: SampleRecord | undefined,
  restEnd: SampleRecord | undefined,
): MemoryTrend {
  const hours: number[] = [];
  const calls: number[] = [];
  const mb: number[] = [];
  const origin = soak[0]?.at ?? 0;
  for (const s of soak) {
    const v = read(s);
    if (v === undefined) continue;
    hours.push((s.at - origin) / 3.6e6);
    calls.push(s.callsEnded);
    mb.push(v / MB);
  }
  const byTime = fitGrowth(hours, mb);
  const byCall = fitGrowth(calls, mb);
  const before = restWarmup === undefined ? undefined : read(restWarmup);
  const after = restEnd === undefined ? undefined : read(restEnd);
  const span = byTime?.xSpan ?? 0;
  const restDeltaMb =
    before === undefined || after === undefined ? undefined : (after - before) / MB;
  let severity = severityOf(byTime, t);
  const named = severity === 'fail' || severity === 'warn' || severity === 'suspect';
  if (named && judging === 'uncollected') severity = 'inconclusive';
  if (named && judging === 'confirmed-at-rest' && !((restDeltaMb ?? 0) > t.resolutionMb)) {
    severity = 'inconclusive';
  }
  if (severity === 'suspect' && judging === 'footprint') severity = 'inconclusive';
  return {
    series,
    kind,
    severity,
    samples: mb.length,
    spanHours: span,
    mbPerHour: byTime?.slope,
    mbPerHourLow: finite(byTime?.slopeLow),
    mbPerHourHigh: finite(byTime?.slopeHigh),
    growthMb: byTime === undefined ? undefined : byTime.slope * span,
    growthMbLow: byTime === undefined ? undefined : finite(byTime.slopeLow * span),
    growthMbHigh: byTime === undefined ? undefined : finite(byTime.slopeHigh * span),
    kbPerCall: byCall === undefined ? undefined : byCall.slope * 1024,
    kbPerCallLow: byCall === undefined ? undefined : finite(byCall.slopeLow * 1024),
    kbPerCallHigh: byCall === undefined ? undefined : finite(byCall.slopeHigh * 1024),
    restDeltaMb,
  };
}

/**
 * Severity of a memory fit: the limits judge the growth measured, the suspect rate judges the
 * rate's interval; neither names growth whose low end stays under the resolution.
 */
function severityOf(fit: GrowthFit | undefined, t: LeakThresholds): Severity {
  if (fit === undefined) return 'ok';
  const growth = fit.slope * fit.xSpan;
  const surelyGrew = fit.slopeLow * fit.xSpan;
  const resolved = surelyGrew > t.resolutionMb;
  if (resolved && growth > t.failMb) return 'fail';
  if (resolved && growth > t.warnMb) return 'warn';
  if (resolved && fit.slopeLow > t.suspectMbPerHour) return 'suspect';
  if (fit.slope > t.suspectMbPerHour) return 'inconclusive';
  return 'ok';
}

function failureReasons(calls: readonly CallRecord[]): string {
  const byReason = new Map<string, number>();
  for (const c of calls) if (!c.ok) byReason.set(c.reason, (byReason.get(c.reason) ?? 0) + 1);
  return [...byReason].map(([r, n]) => `${r} ×${n}`).join(', ');
}
