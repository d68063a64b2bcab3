import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { analyseRun } from '../../soak/leak-analysis.js';
import { SampleLog } from '../../soak/sample-log.js';
import { DEFAULT_THRESHOLDS } from '../../soak/soak-options.js';
import type { SampleRecord, SoakRecord } from '../../soak/soak-record.js';
import { makeReport } from '../../soak/soak-report.js';

const MB = 1024 * 1024;

/** A run's records, made up: `mainHeap(seconds)` gives the main thread's heap in bytes. */
function run(options: {
  seconds: number;
  mainHeap: (t: number) => number;
  restEnd?: Partial<SampleRecord['resources']>;
  failed?: number;
}): SoakRecord[] {
  const t0 = 1_700_000_000_000;
  const records: SoakRecord[] = [
    {
      kind: 'start',
      at: t0,
      options: {
        durationS: options.seconds,
        rotationS: 5,
        concurrentCalls: 4,
        sampleIntervalS: 1,
        warmupS: 10,
        mediaWorkers: 1,
      },
      node: process.version,
      host: { cpus: 2, totalMemory: 4e9 },
    },
  ];
  const sample = (t: number, phase: SampleRecord['phase'], rest: boolean): SampleRecord => ({
    kind: 'sample',
    at: t0 + t * 1000,
    elapsed: t,
    phase,
    rest,
    callsStarted: Math.floor(t),
    callsEnded: Math.floor(t),
    callsFailed: 0,
    threads: [
      {
        thread: 'main',
        rss: 200 * MB,
        heapUsed: options.mainHeap(t),
        heapTotal: 80 * MB,
        external: 5 * MB,
        arrayBuffers: 2 * MB,
        activeHandles: 20,
        at: t0 + t * 1000,
      },
      {
        thread: 'media-0',
        rss: 200 * MB,
        heapUsed: 10 * MB + ((t * 7) % 3) * 0.1 * MB,
        heapTotal: 20 * MB,
        external: 1 * MB,
        arrayBuffers: 0.5 * MB,
        activeHandles: 3,
        at: t0 + t * 1000,
      },
    ],
    resources: {
      liveCalls: rest ? 0 : 4,
      slotsUsed: rest ? 0 : 4,
      slotsCapacity: 40,
      reservations: rest ? 0 : 4,
      peerConnections: rest ? 0 : 4,
      agentSockets: 0,
      mediaCalls: rest ? 0 : 4,
      mediaLoops: 1,
      workerThreads: 1,
      fds: 40,
      osThreads: 30,
      mainHandlesByKind: { Timeout: 5, TCPSocketWrap: 15 },
    },
  });
  records.push(sample(10, 'warmup', true), { kind: 'phase', at: t0 + 10_000, phase: 'soak' });
  for (let t = 11; t < options.seconds; t++) records.push(sample(t, 'soak', false));
  const end = sample(options.seconds, 'drain', true);
  Object.assign(end.resources, options.restEnd ?? {});
  records.push(end);
  for (let i = 0; i < 100; i++) {
    records.push({
      kind: 'call',
      at: t0 + i,
      callId: `c${i}`,
      ok: i >= (options.failed ?? 0),
      reason: i >= (options.failed ?? 0) ? 'caller_hangup' : 'answer_timeout',
      durationMs: 5000,
      packetsSent: 250,
      packetsReceived: 240,
    });
  }
  records.push({ kind: 'end', at: t0 + options.seconds * 1000 + 1 });
  return records;
}

const wobble = (t: number): number => (((t * 7919) % 13) / 13 - 0.5) * 0.2 * MB;

describe('analyseRun', () => {
  it('passes a flat run and gives the wide interval of a short one', () => {
    const analysis = analyseRun(
      run({ seconds: 60, mainHeap: (t) => 40 * MB + wobble(t) }),
      DEFAULT_THRESHOLDS,
    );
    expect(analysis.verdict).toBe('pass');
    expect(analysis.suspects).toEqual([]);
    const heap = analysis.memory.find((m) => m.series === 'main heapUsed');
    // 0.2 MB of noise over 50 s cannot bound the rate to within a few MB/hour.
    expect((heap?.mbPerHourHigh ?? 0) - (heap?.mbPerHourLow ?? 0)).toBeGreaterThan(2);
    expect(analysis.notes.join(' ')).toContain('extrapolated');
  });

  it('names a memory leak with its rate and its KB per call, and fails it above the limit', () => {
    // 3 MB per second: 150 MB over the 50 s after warm-up.
    const analysis = analyseRun(
      run({ seconds: 60, mainHeap: (t) => 40 * MB + 3 * MB * t + wobble(t) }),
      DEFAULT_THRESHOLDS,
    );
    expect(analysis.verdict).toBe('fail');
    const suspect = analysis.suspects.find((s) => s.what === 'main heapUsed');
    expect(suspect).toMatchObject({ kind: 'memory leak', severity: 'fail' });
    const heap = analysis.memory.find((m) => m.series === 'main heapUsed');
    expect(heap?.mbPerHour).toBeCloseTo(3 * 3600, -2);
    expect(heap?.kbPerCall).toBeCloseTo(3 * 1024, -1);
  });

  it('reports a slow but certain rate as a suspect below the limits (a warn)', () => {
    // 4 MB in 50 s: far under 50 MB, but its interval lies far above 1 MB/hour.
    const analysis = analyseRun(
      run({ seconds: 60, mainHeap: (t) => 40 * MB + 0.08 * MB * t }),
      DEFAULT_THRESHOLDS,
    );
    expect(analysis.verdict).toBe('warn');
    expect(analysis.suspects[0]).toMatchObject({ kind: 'memory leak', severity: 'suspect' });
  });

  it('fails slots and reservations not returned, peer connections left open, handles gained', () => {
    const analysis = analyseRun(
      run({
        seconds: 30,
        mainHeap: () => 40 * MB,
        restEnd: {
          slotsUsed: 3,
          reservations: 2,
          peerConnections: 5,
          mainHandlesByKind: { Timeout: 25, TCPSocketWrap: 15 },
        },
      }),
      DEFAULT_THRESHOLDS,
    );
    expect(analysis.verdict).toBe('fail');
    const named = analysis.suspects.map((s) => `${s.kind}: ${s.what}`);
    expect(named).toContain('session leak: slots in use');
    expect(named).toContain('session leak: reservations');
    expect(named).toContain('handle leak: open peer connections');
    // The handle count itself did not move in this made-up run; only the kinds did.
    expect(named).not.toContain('handle leak: main-thread active handles');
  });

  it('fails a run with more than 10 % failed calls and says why they failed', () => {
    const analysis = analyseRun(
      run({ seconds: 30, mainHeap: () => 40 * MB, failed: 11 }),
      DEFAULT_THRESHOLDS,
    );
    expect(analysis.verdict).toBe('fail');
    expect(analysis.suspects[0]).toMatchObject({ kind: 'failed calls', severity: 'fail' });
    expect(analysis.suspects[0]?.evidence).toContain('answer_timeout ×11');
  });
});

describe('makeReport', () => {
  it('writes Markdown, JSON and SVG charts from samples on disk, even without an end record', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vb-soak-report-'));
    const log = new SampleLog(dir);
    const records = run({ seconds: 40, mainHeap: (t) => 40 * MB + wobble(t) });
    for (const record of records.filter((r) => r.kind !== 'end')) log.append(record);
    log.close();

    const report = makeReport(dir, DEFAULT_THRESHOLDS);
    expect(report.run.finished).toBe(false);
    expect(report.notes.join(' ')).toContain('killed or crashed');
    const markdown = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(markdown).toContain('# Soak report: PASS');
    expect(markdown).toContain('| main heapUsed | memory leak |');
    expect(markdown).toContain('![chart-heap.svg](chart-heap.svg)');
    const json = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as { verdict: string };
    expect(json.verdict).toBe('pass');
    const svg = readFileSync(join(dir, 'chart-heap.svg'), 'utf8');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('>media-0</text>');
    expect(svg).toContain('warm-up end');
  });
});
