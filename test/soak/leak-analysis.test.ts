import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { analyseRun } from '../../soak/leak-analysis.js';
import { SampleLog } from '../../soak/sample-log.js';
import { DEFAULT_THRESHOLDS } from '../../soak/soak-options.js';
import { makeReport } from '../../soak/soak-report.js';
import { MB, madeUpRun as run, wobble } from './made-up-run.js';
import { scratchFolders } from '../scratch-folders.js';

/** Folders this file made, removed when it is done. */
const scratch = scratchFolders();

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

  it('names a worker series only when its collected rest samples grew too', () => {
    // Garbage piling up in a worker between collections: the samples climb, the rests do not.
    const garbage = (t: number, rest: boolean): number =>
      rest ? 0.5 * MB : 0.5 * MB + 0.2 * MB * t;
    const piling = analyseRun(
      run({ seconds: 60, mainHeap: () => 40 * MB, workerBuffers: garbage, workersCollected: true }),
      DEFAULT_THRESHOLDS,
    );
    const series = piling.memory.find((m) => m.series === 'media-0 arrayBuffers');
    expect(series?.mbPerHourLow).toBeGreaterThan(100);
    expect(series?.severity).toBe('inconclusive');
    expect(piling.verdict).toBe('pass');

    const kept = (t: number): number => 0.5 * MB + 0.2 * MB * t;
    const leaking = analyseRun(
      run({ seconds: 60, mainHeap: () => 40 * MB, workerBuffers: kept, workersCollected: true }),
      DEFAULT_THRESHOLDS,
    );
    expect(leaking.suspects[0]).toMatchObject({
      kind: 'buffer leak',
      what: 'media-0 arrayBuffers',
    });

    // Without collected rests, the same growth cannot be told from garbage.
    const unknown = analyseRun(
      run({ seconds: 60, mainHeap: () => 40 * MB, workerBuffers: kept, workersCollected: false }),
      DEFAULT_THRESHOLDS,
    );
    expect(unknown.verdict).toBe('pass');
    expect(unknown.notes.join(' ')).toContain('worker series are at most inconclusive');
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
    const dir = scratch(join(tmpdir(), 'vb-soak-report-'));
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
