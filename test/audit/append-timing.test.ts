import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { describe, expect, it } from 'vitest';

import { AuditStore } from '../../src/audit/audit-store.js';
import { makeRecord } from './fixtures/records.js';
import { useTempDir } from './fixtures/temp-dir.js';

const APPENDS = 1_000;

/** Appends APPENDS records and returns the mean time per append, in milliseconds. */
function timeAppends(store: AuditStore): number {
  const started = performance.now();
  for (let i = 0; i < APPENDS; i += 1) store.append(makeRecord(i));
  return (performance.now() - started) / APPENDS;
}

// A measurement, not a check: the figure depends on the disk and is printed for the record.
describe('append cost', () => {
  const tempDir = useTempDir();

  it('measures appends to a file with synchronous = FULL and in memory', () => {
    const file = AuditStore.open(join(tempDir(), 'audit.db'));
    const onDisk = timeAppends(file);
    expect(file.count()).toBe(APPENDS);
    file.close();

    const memory = AuditStore.open(':memory:');
    const inMemory = timeAppends(memory);
    memory.close();

    console.log(
      `audit append, mean of ${APPENDS}: ${onDisk.toFixed(3)} ms on disk (WAL, synchronous = FULL), ` +
        `${inMemory.toFixed(3)} ms in memory (validation, hashing and SQL without I/O)`,
    );
  });
});
