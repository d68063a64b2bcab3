import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import type { LoadResult } from '../../bench/load/load-report.js';
import { assertLoopbackOnly } from '../transport/fixtures/loopback-only.js';

const RUNNER = new URL('../../dist/bench/load/run.js', import.meta.url).pathname;

/** Runs the compiled load runner with `env`; resolves with its exit code and output. */
function runLoad(env: Record<string, string>, args: string[]) {
  const child = spawn(process.execPath, [RUNNER, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise<{ code: number; output: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code: code ?? -1, output })),
  );
}

describe('npm run load', () => {
  it('places real calls for a few seconds and writes the figures it measured as JSON', async () => {
    assertLoopbackOnly();
    const dir = mkdtempSync(join(tmpdir(), 'vb-load-test-'));
    const out = join(dir, 'load.json');
    const { code, output } = await runLoad(
      { CONCURRENT_CALLS: '3', CALLS_PER_SECOND: '1', TEST_DURATION: '5' },
      ['--out', out],
    );
    expect([0, 1], output).toContain(code);
    const result = JSON.parse(readFileSync(out, 'utf8')) as LoadResult;
    rmSync(dir, { recursive: true, force: true });

    expect(result.config).toMatchObject({
      concurrent_calls: 3,
      calls_per_second: 1,
      hold_ms: 3_000,
    });
    expect(result.calls_started).toBeGreaterThanOrEqual(3);
    expect(result.calls_succeeded + result.calls_failed).toBe(result.calls_started);
    expect(result.calls_succeeded).toBeGreaterThan(0);
    expect(result.success_rate).toBeCloseTo(result.calls_succeeded / result.calls_started, 3);
    for (const key of ['p50', 'p95', 'p99'] as const) {
      expect(result.setup_ms[key]).toBeGreaterThan(0);
    }
    expect(result.setup_ms.p50 ?? 0).toBeLessThanOrEqual(result.setup_ms.p99 ?? 0);
    expect(result.first_media_ms.count).toBe(result.calls_succeeded);
    expect(result.packets.received).toBeGreaterThan(0);
    expect(result.packet_loss).toBeGreaterThanOrEqual(0);
    expect(result.packet_loss).toBeLessThan(1);
    expect(result.tick_lateness_ms.observations).toBeGreaterThan(0);
    expect(result.tick_lateness_ms.p99).not.toBeNull();
    expect(result.session_listing_ms.count).toBeGreaterThan(0);
    expect(result.audit.missing).toBe(0);
    expect(result.bridge_exit_code).toBe(0);

    // The verdict, the exit code and the reasons printed agree.
    expect(result.passed).toBe(code === 0);
    expect(result.passed).toBe(result.failures.length === 0);
    for (const failure of result.failures) expect(output).toContain(failure);
    expect(output).toContain('invite→answer ms');
  }, 60_000);

  it('refuses a bad variable, naming it and its value, with exit 2', async () => {
    const { code, output } = await runLoad({ CONCURRENT_CALLS: 'ten' }, []);
    expect(code).toBe(2);
    expect(output).toContain('CONCURRENT_CALLS must be an integer from 1 to 1000, got "ten"');
    const rate = await runLoad({ CALLS_PER_SECOND: '0' }, []);
    expect(rate.code).toBe(2);
    expect(rate.output).toContain('CALLS_PER_SECOND must be a number from 0.1 to 1000, got "0"');
  });
});
