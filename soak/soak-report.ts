import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { aggregateSnapshot, heapGrowth, type HeapGrowth } from './heap-snapshot.js';
import { fmt, threadOrder } from './figures.js';
import { analyseRun, type LeakAnalysis } from './leak-analysis.js';
import { readSamples } from './sample-log.js';
import type { LeakThresholds } from './soak-options.js';
import type { SampleRecord, SnapshotRecord, SoakRecord } from './soak-record.js';
import { renderLineChart, type ChartSeries } from './svg-chart.js';

/** Heap growth of one thread between its warm-up and end snapshots. */
export interface ThreadHeapGrowth {
  thread: string;
  grown: HeapGrowth[];
  error?: string;
}

/** The leak report, as written to report.json. */
export interface SoakReport extends LeakAnalysis {
  heap: ThreadHeapGrowth[];
  skippedLines: number;
  files: { markdown: string; json: string; charts: string[] };
}

/** The report's file names inside the run folder. */
export const REPORT_FILES = { markdown: 'report.md', json: 'report.json' } as const;

const MB = 1024 * 1024;

/**
 * Makes the leak report of the run in `dir` from its samples.jsonl and heap snapshots alone:
 * report.md with SVG charts beside it, and report.json. Works on a run that was killed.
 */
export function makeReport(dir: string, thresholds: LeakThresholds): SoakReport {
  const { records, skippedLines } = readSamples(dir);
  const analysis = analyseRun(records, thresholds);
  const heap = heapGrowthOf(dir, records);
  const charts = writeCharts(dir, records);
  const report: SoakReport = {
    ...analysis,
    heap,
    skippedLines,
    files: { markdown: REPORT_FILES.markdown, json: REPORT_FILES.json, charts },
  };
  writeFileSync(join(dir, REPORT_FILES.json), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, REPORT_FILES.markdown), markdownOf(report));
  return report;
}

function heapGrowthOf(dir: string, records: readonly SoakRecord[]): ThreadHeapGrowth[] {
  const snaps = records.filter((r): r is SnapshotRecord => r.kind === 'snapshot');
  const threads = [...new Set(snaps.map((s) => s.thread))].sort(threadOrder);
  const out: ThreadHeapGrowth[] = [];
  for (const thread of threads) {
    const before = snaps.find((s) => s.thread === thread && s.label === 'warmup');
    const after = snaps.find((s) => s.thread === thread && s.label === 'end');
    if (before === undefined || after === undefined) continue;
    try {
      const a = join(dir, before.file);
      const b = join(dir, after.file);
      if (!existsSync(a) || !existsSync(b)) throw new Error('snapshot file missing');
      out.push({ thread, grown: heapGrowth(aggregateSnapshot(a), aggregateSnapshot(b)) });
    } catch (error) {
      out.push({
        thread,
        grown: [],
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return out;
}

function writeCharts(dir: string, records: readonly SoakRecord[]): string[] {
  const samples = records.filter((r): r is SampleRecord => r.kind === 'sample');
  if (samples.length === 0) return [];
  const origin = records[0]?.at ?? (samples[0] as SampleRecord).at;
  const minutes = (s: SampleRecord): number => (s.at - origin) / 60_000;
  const markers = records.flatMap((r) =>
    r.kind === 'phase' && (r.phase === 'ramp' || r.phase === 'soak')
      ? [{ x: (r.at - origin) / 60_000, label: r.phase === 'ramp' ? 'warm-up end' : 'fit from' }]
      : [],
  );
  const threads = [...new Set(samples.flatMap((s) => s.threads.map((t) => t.thread)))].sort(
    threadOrder,
  );
  const perThread = (field: 'heapUsed' | 'arrayBuffers' | 'external'): ChartSeries[] =>
    threads.map((thread) => ({
      name: thread,
      points: samples.flatMap((s) => {
        const t = s.threads.find((x) => x.thread === thread);
        return t === undefined ? [] : [[minutes(s), t[field] / MB] as const];
      }),
    }));
  const charts: [string, string, string, ChartSeries[]][] = [
    ['chart-heap.svg', 'V8 heap used per thread', 'MB', perThread('heapUsed')],
    ['chart-array-buffers.svg', 'ArrayBuffer memory per thread', 'MB', perThread('arrayBuffers')],
    ['chart-external.svg', 'External memory per thread', 'MB', perThread('external')],
    [
      'chart-rss.svg',
      'Process resident set size',
      'MB',
      [
        {
          name: 'rss',
          points: samples.map((s) => [minutes(s), (s.threads[0]?.rss ?? 0) / MB] as const),
        },
      ],
    ],
    [
      'chart-resources.svg',
      'Calls, slots and handles',
      'count',
      [
        ['live calls', (s: SampleRecord) => s.resources.liveCalls],
        ['slots in use', (s: SampleRecord) => s.resources.slotsUsed],
        ['reservations', (s: SampleRecord) => s.resources.reservations],
        ['peer connections', (s: SampleRecord) => s.resources.peerConnections],
        ['main handles', (s: SampleRecord) => s.threads[0]?.activeHandles ?? 0],
        ['OS threads', (s: SampleRecord) => s.resources.osThreads],
      ].map(([name, read]) => ({
        name: name as string,
        points: samples.map((s) => [minutes(s), (read as (s: SampleRecord) => number)(s)] as const),
      })),
    ],
  ];
  const files: string[] = [];
  for (const [file, title, yLabel, series] of charts) {
    writeFileSync(
      join(dir, file),
      renderLineChart({ title, xLabel: 'minutes', yLabel, series, markers }),
    );
    files.push(file);
  }
  return files;
}

function markdownOf(r: SoakReport): string {
  const lines: string[] = [];
  const o = r.run.start?.options;
  lines.push(`# Soak report: ${r.verdict.toUpperCase()}`, '');
  if (o !== undefined) {
    lines.push(
      `Run: ${o.durationS} s (warm-up ${o.warmupS} s), ${o.concurrentCalls} concurrent calls, ` +
        `each replaced after ${o.rotationS} s, a sample every ${o.sampleIntervalS} s, ` +
        `${o.mediaWorkers} media workers; Node ${r.run.start?.node ?? '?'}.`,
      '',
    );
  }
  lines.push(
    `Calls: ${r.calls.started} started, ${r.calls.ended} ended, ${r.calls.failed} failed ` +
      `(${r.calls.failedPercent.toFixed(1)} %). Samples: ${r.run.samples}, ` +
      `${r.run.soakSamples} after warm-up over ${(r.run.soakHours * 60).toFixed(1)} min.`,
    '',
  );
  const t = r.thresholds;
  lines.push(
    `Thresholds: warn above ${t.warnMb} MB of growth after warm-up, fail above ${t.failMb} MB, ` +
      `fail above ${t.maxFailedPercent} % failed calls; a rate whose 95 % interval lies above ` +
      `${t.suspectMbPerHour} MB/hour is a suspect; growth surely under ${t.resolutionMb} MB over ` +
      'the span measured is below the resolution and named by neither; handles, descriptors and ' +
      'OS threads may ' +
      `differ by ${t.handleTolerance} between the two rests; slots, reservations, live calls, peer ` +
      'connections and agent sockets must all be back to 0 at rest.',
    '',
  );
  for (const note of r.notes) lines.push(`> ${note}`, '');

  lines.push('## Suspects', '');
  if (r.suspects.length === 0) lines.push('None.', '');
  else {
    lines.push('| severity | kind | what | evidence |', '| --- | --- | --- | --- |');
    for (const s of r.suspects)
      lines.push(`| ${s.severity} | ${s.kind} | ${s.what} | ${s.evidence} |`);
    lines.push('');
  }

  lines.push(
    '## Memory after warm-up',
    '',
    'Least-squares fits over the samples after warm-up (main-thread samples follow a full ' +
      'garbage collection; workers report their heap as it is). Intervals are 95 %, widened for ' +
      'autocorrelated samples.',
    '',
    '| series | kind | samples | MB/hour | 95 % interval | growth MB | KB per call | 95 % interval | rest to rest MB | finding |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const m of r.memory) {
    lines.push(
      `| ${m.series} | ${m.kind} | ${m.samples} | ${fmt(m.mbPerHour)} | ${fmt(m.mbPerHourLow)} to ${fmt(m.mbPerHourHigh)} | ` +
        `${fmt(m.growthMb)} | ${fmt(m.kbPerCall)} | ${fmt(m.kbPerCallLow)} to ${fmt(m.kbPerCallHigh)} | ${fmt(m.restDeltaMb)} | ${m.severity} |`,
    );
  }
  lines.push(
    '',
    '## Counts at rest',
    '',
    'Compared between the rest at the end of warm-up and the rest at the end (no call live).',
    '',
  );
  lines.push(
    '| count | kind | after warm-up | at the end | allowed | per call | finding |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const c of r.counts) {
    lines.push(
      `| ${c.name} | ${c.kind} | ${c.atWarmup ?? '?'} | ${c.atEnd ?? '?'} | ${c.allowed} | ${fmt(c.perCall, 3)} | ${c.severity}${c.detail === undefined ? '' : ` (${c.detail})`} |`,
    );
  }
  lines.push('', '## Heap objects that grew', '');
  if (r.heap.length === 0)
    lines.push('No pair of heap snapshots (warm-up end and end) to compare.', '');
  for (const h of r.heap) {
    lines.push(`### ${h.thread}`, '');
    if (h.error !== undefined) {
      lines.push(`Could not compare: ${h.error}`, '');
      continue;
    }
    lines.push(
      '| constructor | count | Δ count | bytes | Δ bytes |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const g of h.grown) {
      lines.push(
        `| ${g.name.replace(/\|/g, '\\|').slice(0, 80)} | ${g.countAfter} | ${signed(g.countAfter - g.countBefore)} | ${g.bytesAfter} | ${signed(g.bytesAfter - g.bytesBefore)} |`,
      );
    }
    lines.push('');
  }
  lines.push('## Charts', '');
  for (const file of r.files.charts) lines.push(`![${file}](${file})`, '');
  if (r.skippedLines > 0)
    lines.push(`${r.skippedLines} unreadable lines of samples.jsonl were skipped.`, '');
  return `${lines.join('\n')}\n`;
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : `${n}`;
}
