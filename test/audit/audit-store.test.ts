import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { AuditError } from '../../src/audit/audit-error.js';
import { AuditStore } from '../../src/audit/audit-store.js';
import { recordHash } from '../../src/audit/record-hash.js';
import { deniedRecord, makeRecord, T0 } from './fixtures/records.js';
import { useTempDir } from './fixtures/temp-dir.js';

describe('AuditStore', () => {
  const tempDir = useTempDir();

  it('keeps a record across close and reopen', () => {
    const path = join(tempDir(), 'audit.db');
    const record = makeRecord(1, { violations: ['budget_exceeded'] });

    const writer = AuditStore.open(path);
    const stored = writer.append(record);
    writer.close();

    const reader = AuditStore.open(path);
    expect(reader.count()).toBe(1);
    expect(reader.recent(10)).toEqual([stored]);
    expect(reader.recent(10)[0]).toMatchObject(record);
    reader.close();
  });

  it('creates missing parent folders and the file with mode 0600', () => {
    const path = join(tempDir(), 'var', 'lib', 'voicebridge', 'audit.db');

    const store = AuditStore.open(path);
    store.append(makeRecord(1));

    expect(statSync(path).mode & 0o777).toBe(0o600);
    // SQLite gives its write-ahead log the database file's mode.
    expect(statSync(`${path}-wal`).mode & 0o777).toBe(0o600);
    store.close();
  });

  it('refuses a file that is not an audit store, naming it', () => {
    const path = join(tempDir(), 'notes.txt');
    writeFileSync(path, 'these are not the records you are looking for\n'.repeat(20));

    const error = catchError(() => AuditStore.open(path));

    expect(error).toMatchObject({ code: 'store_unreadable' });
    expect(error.message).toContain(path);
  });

  it('keeps the file in write-ahead-log mode', () => {
    const path = join(tempDir(), 'audit.db');
    AuditStore.open(path).close();

    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('links each record to the hash of the one before it', () => {
    const store = AuditStore.open(':memory:');

    const first = store.append(makeRecord(1));
    const second = store.append(makeRecord(2));
    const third = store.append(makeRecord(3));

    expect([first.seq, second.seq, third.seq]).toEqual([1, 2, 3]);
    expect(first.prev_hash).toBe('');
    expect(second.prev_hash).toBe(first.hash);
    expect(third.prev_hash).toBe(second.hash);
    expect(third.hash).toBe(recordHash(second.hash, makeRecord(3)));
    expect(store.head()).toEqual({ seq: 3, hash: third.hash });
    store.close();
  });

  it('hashes the same record the same whatever order its keys were written in', () => {
    const record = makeRecord(1);
    const reversed = Object.fromEntries(Object.entries(record).reverse()) as typeof record;

    const a = AuditStore.open(':memory:');
    const b = AuditStore.open(':memory:');
    expect(a.append(record).hash).toBe(b.append(reversed).hash);
    a.close();
    b.close();
  });

  it('answers count, since and recent from the indexed columns', () => {
    const store = AuditStore.open(':memory:');
    for (let i = 0; i < 10; i += 1) store.append(makeRecord(i));
    store.append(deniedRecord(10, 'user_blocked'));

    // Call i ends at T0 + i minutes + 30 s.
    const since = T0 + 7 * 60_000;
    expect(store.since(since).map((r) => r.call_id)).toEqual([
      'call-7',
      'call-8',
      'call-9',
      'call-10',
    ]);
    expect(store.count({ since })).toBe(4);
    expect(store.count({ state: 'denied' })).toBe(1);
    expect(store.count({ since, until: T0 + 9 * 60_000 })).toBe(2);
    expect(store.recent(3).map((r) => r.call_id)).toEqual(['call-10', 'call-9', 'call-8']);
    expect(store.find({ state: 'ended' }, 2).map((r) => r.seq)).toEqual([1, 2]);
    store.close();
  });

  it('refuses a query option that is not a time, naming it', () => {
    const store = AuditStore.open(':memory:');
    expect(() => store.count({ since: Number.NaN })).toThrowError(/since: .*NaN/);
    expect(() => store.recent(-1)).toThrowError(/limit: .*-1/);
    store.close();
  });

  it('refuses to work once closed', () => {
    const store = AuditStore.open(':memory:');
    store.close();
    store.close();

    expect(() => store.append(makeRecord(1))).toThrowError(
      expect.objectContaining({ code: 'store_closed' }) as Error,
    );
  });

  it('opens read-only without creating a missing file', () => {
    const path = join(tempDir(), 'absent', 'audit.db');

    const error = catchError(() => AuditStore.openReadOnly(path));

    expect(error).toMatchObject({ code: 'store_not_found' });
    expect(error.message).toContain(path);
    expect(existsSync(path)).toBe(false);
  });

  it('refuses appends on a store opened read-only', () => {
    const path = join(tempDir(), 'audit.db');
    AuditStore.open(path).close();

    const reader = AuditStore.openReadOnly(path);
    expect(() => reader.append(makeRecord(1))).toThrowError(
      expect.objectContaining({ code: 'store_read_only' }) as Error,
    );
    reader.close();
  });
});

function catchError(action: () => unknown): AuditError {
  try {
    action();
  } catch (error) {
    if (error instanceof AuditError) return error;
    throw error;
  }
  throw new Error('expected an AuditError');
}
