import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { fleetDriver } from '../../soak/fleet-driver.js';
import { soakOptionsFrom } from '../../soak/soak-options.js';
import { runSoak, type SoakResult } from '../../soak/soak-runner.js';
import { assertLoopbackOnly } from '../transport/fixtures/loopback-only.js';
import {
  claimSlotPerCall,
  openPeerPerCall,
  retainBufferPerCall,
  timerPerCall,
  type Plant,
} from './leak-plants.js';
import { scratchFolders } from '../scratch-folders.js';

/** Folders this file made, removed when it is done. */
const scratch = scratchFolders();

/**
 * Short soaks through the whole stack (homeserver, bridge, caller processes, real calls), one
 * clean and one per planted leak: the detector must name each leak from the real samples.
 */
const SHORT = {
  TEST_DURATION: '24',
  WARMUP: '6',
  CALL_ROTATION: '3',
  CONCURRENT_CALLS: '3',
  SAMPLE_INTERVAL: '1',
  MEDIA_WORKERS: '1',
  CALLER_PROCESSES: '1',
  HEAP_SNAPSHOTS: '0',
};
const TIMEOUT = 120_000;

async function shortSoak(plant?: Plant, env: Record<string, string> = {}): Promise<SoakResult> {
  const options = soakOptionsFrom({ ...SHORT, ...env }, []);
  const dir = scratch(join(tmpdir(), 'vb-soak-'));
  return runSoak(options, dir, fleetDriver, { onBridge: plant });
}

function named(result: SoakResult): string[] {
  return result.report.suspects.map((s) => `${s.kind}: ${s.what}`);
}

beforeAll(() => {
  assertLoopbackOnly();
});

describe('a short soak', () => {
  it(
    'passes a clean bridge, with calls completed and heap snapshots compared',
    async () => {
      const result = await shortSoak(undefined, { HEAP_SNAPSHOTS: '1' });
      const { report } = result;
      expect(report.calls.ended).toBeGreaterThanOrEqual(9);
      expect(report.calls.failed).toBe(0);
      expect(report.run.restAtWarmup && report.run.restAtEnd).toBe(true);
      expect(report.suspects).toEqual([]);
      expect(report.verdict).toBe('pass');
      expect(report.heap.map((h) => h.thread)).toContain('main');
      expect(report.heap.every((h) => h.error === undefined)).toBe(true);
    },
    TIMEOUT,
  );

  it(
    'names a buffer leak when every call leaves a 1 MB Buffer behind, with about 1 MB per call',
    async () => {
      const result = await shortSoak(retainBufferPerCall(1024 * 1024));
      expect(named(result)).toContain('buffer leak: main arrayBuffers');
      expect(result.report.verdict).not.toBe('pass');
      const trend = result.report.memory.find((m) => m.series === 'main arrayBuffers');
      expect(trend?.kbPerCall).toBeGreaterThan(1024 * 0.9);
      expect(trend?.kbPerCall).toBeLessThan(1024 * 1.1);
    },
    TIMEOUT,
  );

  it(
    'names a session leak and fails when every call leaves a slot claimed',
    async () => {
      const result = await shortSoak(claimSlotPerCall(20));
      expect(named(result)).toContain('session leak: slots in use');
      expect(named(result)).not.toContain('session leak: reservations');
      expect(result.report.verdict).toBe('fail');
    },
    TIMEOUT,
  );

  it(
    'names a handle leak and fails when every call leaves a peer connection open',
    async () => {
      const result = await shortSoak(openPeerPerCall());
      expect(named(result)).toContain('handle leak: open peer connections');
      expect(result.report.verdict).toBe('fail');
    },
    TIMEOUT,
  );

  it(
    'names a handle leak of timers and fails when every call starts one that is never cleared',
    async () => {
      const result = await shortSoak(timerPerCall());
      const suspect = result.report.suspects.find((s) => s.what === 'main-thread active handles');
      expect(suspect?.kind).toBe('handle leak');
      expect(suspect?.evidence).toMatch(/Timeout \+\d+/);
      expect(result.report.verdict).toBe('fail');
    },
    TIMEOUT,
  );
});
