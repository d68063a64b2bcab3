import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { assertLoopbackOnly } from '../transport/fixtures/loopback-only.js';

import { SampleLog } from '../../soak/sample-log.js';
import { MB, madeUpRun, wobble } from './made-up-run.js';
import { scratchFolders } from '../scratch-folders.js';

/** Folders this file made, removed when it is done. */
const scratch = scratchFolders();

const RUN = join(process.cwd(), 'dist', 'soak', 'run.js');

function soak(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [RUN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 30_000,
  });
}

/** A run folder holding made-up samples, as a killed run would leave them (no end record). */
function runFolder(mainHeap: (t: number) => number): string {
  const dir = scratch(join(tmpdir(), 'vb-soak-cli-'));
  const log = new SampleLog(dir);
  for (const r of madeUpRun({ seconds: 40, mainHeap })) if (r.kind !== 'end') log.append(r);
  log.close();
  return dir;
}

describe('npm run soak', () => {
  it.each([
    ['TEST_DURATION', 'soon', 'soak: TEST_DURATION must be a number, got "soon"'],
    ['CONCURRENT_CALLS', '0', 'soak: CONCURRENT_CALLS must be from 1 to 500, got "0"'],
    ['SAMPLE_INTERVAL', '-1', 'soak: SAMPLE_INTERVAL must be from 0.2 to 3600, got "-1"'],
    ['FAIL_ON_WARN', 'maybe', 'soak: FAIL_ON_WARN must be 1 or 0, got "maybe"'],
  ])('exits 2 on %s=%j, naming the variable and the value', (name, value, message) => {
    const result = soak([], { [name]: value });
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(message);
  });

  it('exits 2 on an unknown argument and on a folder that holds no run', () => {
    expect(soak(['--fast']).stderr).toContain('unknown argument "--fast"');
    const empty = scratch(join(tmpdir(), 'vb-soak-cli-'));
    const result = soak(['report', empty]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('no samples.jsonl');
  });

  it('exits 2 rather than mix two runs in one folder, or write into a file', () => {
    const used = runFolder((t) => 40 * MB + wobble(t));
    const again = soak(['--out', used]);
    expect(again.status).toBe(2);
    expect(again.stderr.trim()).toBe(
      `soak: --out ${used} already holds a soak run (samples.jsonl); choose another folder`,
    );
    const file = join(used, 'report.json');
    soak(['report', used]);
    const intoFile = soak(['--out', file]);
    expect(intoFile.status).toBe(2);
    expect(intoFile.stderr.trim()).toBe(`soak: --out ${file} is not a folder`);
  });

  it('remakes the report from samples on disk, exiting 0 on a pass and 1 on a fail', () => {
    const flat = runFolder((t) => 40 * MB + wobble(t));
    const pass = soak(['report', flat]);
    expect(pass.status).toBe(0);
    expect(pass.stdout).toContain('verdict: PASS');
    expect(existsSync(join(flat, 'report.md'))).toBe(true);

    const leaking = runFolder((t) => 40 * MB + 6 * MB * t);
    const fail = soak(['report', leaking]);
    expect(fail.status).toBe(1);
    expect(fail.stdout).toContain('verdict: FAIL');
    expect(fail.stdout).toMatch(/fail +memory leak: main heapUsed/);
    expect(readFileSync(join(leaking, 'report.md'), 'utf8')).toContain('# Soak report: FAIL');

    // The thresholds are the environment's: a higher limit makes the same run a warn.
    const warn = soak(['report', leaking], { LEAK_WARN_MB: '500', LEAK_FAIL_MB: '1000' });
    expect(warn.status).toBe(0);
    expect(warn.stdout).toContain('verdict: WARN');
    expect(
      soak(['report', leaking], { LEAK_WARN_MB: '500', LEAK_FAIL_MB: '1000', FAIL_ON_WARN: '1' })
        .status,
    ).toBe(1);
  });
});

describe('a soak killed with SIGKILL', () => {
  it('leaves every sample taken so far, and the report is made from them', async () => {
    assertLoopbackOnly();
    const dir = join(scratch(join(tmpdir(), 'vb-soak-kill-')), 'run');
    const child = spawn(process.execPath, [RUN, '--out', dir], {
      env: {
        ...process.env,
        TEST_DURATION: '60',
        WARMUP: '5',
        CALL_ROTATION: '3',
        CONCURRENT_CALLS: '2',
        SAMPLE_INTERVAL: '0.5',
        MEDIA_WORKERS: '1',
        CALLER_PROCESSES: '1',
        HEAP_SNAPSHOTS: '0',
      },
      stdio: 'ignore',
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const sampleLines = (): number => {
      const path = join(dir, 'samples.jsonl');
      if (!existsSync(path)) return 0;
      return readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"kind":"sample"')).length;
    };
    // Past the rest at the end of warm-up and a few samples into the soak.
    for (let i = 0; i < 600 && sampleLines() < 30; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    child.kill('SIGKILL');
    await exited;
    const written = sampleLines();
    expect(written).toBeGreaterThanOrEqual(30);

    const result = soak(['report', dir]);
    expect(result.status === 0 || result.status === 1).toBe(true);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as {
      run: { samples: number; finished: boolean; restAtWarmup: boolean; restAtEnd: boolean };
      notes: string[];
    };
    // A line torn by the kill is skipped.
    expect(report.run.samples).toBeGreaterThanOrEqual(written - 1);
    expect(report.run).toMatchObject({ finished: false, restAtWarmup: true });
    expect(report.run.restAtEnd).toBe(false);
    expect(report.notes.join(' ')).toContain('killed or crashed');
  }, 90_000);
});
