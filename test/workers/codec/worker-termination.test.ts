import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { describe, expect, it } from 'vitest';

import type { CodecTask } from './codec-task.js';
import type { CodecWorkerMode, CodecWorkerReport } from './codec-worker.js';
import { typescriptExecArgv } from './typescript-worker.js';

const execArgv = typescriptExecArgv([
  new URL('../../../workers/codec/', import.meta.url),
  new URL('./', import.meta.url),
]);

function startWorker(mode: CodecWorkerMode): Worker {
  return new Worker(new URL('./codec-worker.ts', import.meta.url), { execArgv, workerData: mode });
}

async function checkInFreshWorker(): Promise<CodecWorkerReport> {
  const worker = startWorker('check');
  const [report] = (await once(worker, 'message')) as [CodecWorkerReport];
  await worker.terminate();
  return report;
}

describe('a codec in a worker thread', () => {
  it('survives 20 workers terminated while coding, and codes again in a fresh worker', async () => {
    const busyExitCodes: number[] = [];
    for (let round = 0; round < 20; round++) {
      const worker = startWorker('busy');
      // Every fourth worker is stopped while it is still loading the codec.
      if (round % 4 === 3) {
        await worker.terminate();
        continue;
      }
      await once(worker, 'message');
      busyExitCodes.push(await worker.terminate());
    }

    const report = await checkInFreshWorker();
    expect(busyExitCodes).toEqual(new Array<number>(15).fill(1));
    expect(report.concealSamples).toBe(960);
    expect(report.outputRms / report.inputRms).toBeGreaterThan(0.9);
    expect(report.correlation).toBeGreaterThan(0.98);
  }, 120_000);

  it('survives a Piscina pool destroyed while its tasks code, and a new pool codes', async () => {
    const filename = new URL('./codec-task.ts', import.meta.url).href;
    const options = {
      filename,
      execArgv,
      minThreads: 2,
      maxThreads: 2,
      atomics: 'disabled' as const,
    };

    let refused = 0;
    for (let round = 0; round < 5; round++) {
      const pool = new Piscina<CodecTask, number>(options);
      const started = new Int32Array(new SharedArrayBuffer(4));
      const tasks = [0, 1].map(() => pool.run({ kind: 'busy', started }).catch(() => refused++));
      while (Atomics.load(started, 0) < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      await pool.destroy();
      await Promise.all(tasks);
    }

    const pool = new Piscina<CodecTask, number>(options);
    const level = await pool.run({ kind: 'check' });
    await pool.destroy();
    expect(refused).toBe(10);
    expect(level).toBeGreaterThan(6_000);
  }, 120_000);
});
