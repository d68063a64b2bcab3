import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

import { afterAll, describe, expect, it } from 'vitest';

import { aggregateSnapshot, heapGrowth, writeWorkerSnapshot } from '../../soak/heap-snapshot.js';
import { scratchFolders } from '../scratch-folders.js';

/** Folders this file made, removed when it is done. */
const scratch = scratchFolders();

const WORKER = `
const { parentPort } = require('node:worker_threads');
class PlantedRecord { constructor(i) { this.i = i; this.payload = 'x'.repeat(64) + i; } }
const kept = [];
parentPort.on('message', (n) => {
  for (let i = 0; i < n; i++) kept.push(new PlantedRecord(i));
  parentPort.postMessage(kept.length);
});
`;

let worker: Worker | undefined;
afterAll(async () => {
  await worker?.terminate();
});

describe('heap snapshots', () => {
  it('finds the constructor whose objects a thread kept between two snapshots', async () => {
    const dir = scratch(join(tmpdir(), 'vb-soak-heap-'));
    worker = new Worker(WORKER, { eval: true });
    const grow = (n: number) =>
      new Promise<number>((resolve) => {
        worker?.once('message', resolve);
        worker?.postMessage(n);
      });
    await grow(10);
    await writeWorkerSnapshot(worker, join(dir, 'before.heapsnapshot'));
    await grow(5000);
    await writeWorkerSnapshot(worker, join(dir, 'after.heapsnapshot'));

    const before = aggregateSnapshot(join(dir, 'before.heapsnapshot'));
    const after = aggregateSnapshot(join(dir, 'after.heapsnapshot'));
    expect(before.get('PlantedRecord')?.count).toBe(10);
    expect(after.get('PlantedRecord')?.count).toBe(5010);
    const grown = heapGrowth(before, after);
    const planted = grown.find((g) => g.name === 'PlantedRecord');
    expect(planted).toMatchObject({ countBefore: 10, countAfter: 5010 });
    expect((planted?.bytesAfter ?? 0) - (planted?.bytesBefore ?? 0)).toBeGreaterThan(5000 * 16);
    expect(grown.slice(0, 5).map((g) => g.name)).toContain('(string)');
  });
});
