import { join } from 'node:path';

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { AuditStore } from '../../src/audit/audit-store.js';
import { recordHash } from '../../src/audit/record-hash.js';
import type { ChainVerification } from '../../src/audit/chain-verify.js';
import { makeRecord } from './fixtures/records.js';
import { useTempDir } from './fixtures/temp-dir.js';

describe('verify', () => {
  const tempDir = useTempDir();

  let stores = 0;

  /** A store of `n` records in a new file, closed, ready to be tampered with. */
  function storeOf(n: number): string {
    stores += 1;
    const path = join(tempDir(), `audit-${stores}.db`);
    const store = AuditStore.open(path);
    for (let i = 1; i <= n; i += 1) store.append(makeRecord(i));
    store.close();
    return path;
  }

  /** Runs raw SQL on the file, as someone with access to it could. */
  function tamper(path: string, sql: string): void {
    const db = new Database(path);
    db.exec(sql);
    db.close();
  }

  function verify(path: string): ChainVerification {
    const store = AuditStore.openReadOnly(path);
    try {
      return store.verify();
    } finally {
      store.close();
    }
  }

  it('keeps reporting a cut tail and head row after the store appends again', () => {
    const path = storeOf(10);
    tamper(path, 'DELETE FROM audit_records WHERE seq > 7; DELETE FROM audit_meta;');
    const store = AuditStore.open(path);
    store.append(makeRecord(11));
    store.close();

    const result = verify(path);
    expect(result.ok).toBe(false);
    expect(result.problem).toMatchObject({ seq: 8, kind: 'missing' });
    expect(result.problem?.detail).toContain('head row was missing');
  });

  it('finds an untouched chain intact', () => {
    expect(verify(storeOf(5))).toEqual({ ok: true, checked: 5 });
  });

  it('finds an empty store intact', () => {
    expect(verify(storeOf(0))).toEqual({ ok: true, checked: 0 });
  });

  it('detects a field edited in place', () => {
    const path = storeOf(5);
    tamper(path, "UPDATE audit_records SET end_reason = 'hangup_by_user' WHERE seq = 3");

    expect(verify(path)).toEqual({
      ok: false,
      checked: 2,
      problem: { seq: 3, kind: 'edited', detail: expect.stringContaining('record 3') as string },
    });
  });

  it('detects an edited token count and an edited event list', () => {
    const tokens = storeOf(4);
    tamper(tokens, 'UPDATE audit_records SET input_tokens = 1 WHERE seq = 2');
    expect(verify(tokens).problem).toMatchObject({ seq: 2, kind: 'edited' });

    const events = storeOf(4);
    tamper(events, "UPDATE audit_records SET events = '[]' WHERE seq = 4");
    expect(verify(events).problem).toMatchObject({ seq: 4, kind: 'edited' });
  });

  it('detects a column that no longer holds JSON', () => {
    const path = storeOf(3);
    tamper(path, "UPDATE audit_records SET violations = 'not json' WHERE seq = 2");

    expect(verify(path).problem).toMatchObject({ seq: 2, kind: 'edited' });
  });

  it('detects a record deleted from the middle', () => {
    const path = storeOf(5);
    tamper(path, 'DELETE FROM audit_records WHERE seq = 3');

    expect(verify(path)).toMatchObject({
      ok: false,
      checked: 2,
      problem: { seq: 3, kind: 'missing' },
    });
  });

  it('detects records deleted from the end', () => {
    const path = storeOf(5);
    tamper(path, 'DELETE FROM audit_records WHERE seq >= 4');

    const result = verify(path);
    expect(result).toMatchObject({ ok: false, checked: 3, problem: { seq: 4, kind: 'missing' } });
    expect(result.problem?.detail).toContain('records 4 to 5');
  });

  it('detects the first record deleted', () => {
    const path = storeOf(3);
    tamper(path, 'DELETE FROM audit_records WHERE seq = 1');

    expect(verify(path).problem).toMatchObject({ seq: 1, kind: 'missing' });
  });

  it('detects a pair of records swapped', () => {
    const path = storeOf(5);
    tamper(
      path,
      `UPDATE audit_records SET seq = -1 WHERE seq = 3;
       UPDATE audit_records SET seq = 3 WHERE seq = 4;
       UPDATE audit_records SET seq = 4 WHERE seq = -1;`,
    );

    expect(verify(path)).toMatchObject({
      ok: false,
      checked: 2,
      problem: { seq: 3, kind: 'reordered', detail: expect.stringContaining('record 4') as string },
    });
  });

  it('detects a record rewritten together with its own hash', () => {
    const path = storeOf(4);
    const forged = makeRecord(2, { end_reason: 'hangup_by_user' });
    const db = new Database(path);
    const prev = db.prepare('SELECT prev_hash FROM audit_records WHERE seq = 2').pluck().get();
    db.prepare(
      "UPDATE audit_records SET end_reason = 'hangup_by_user', hash = ? WHERE seq = 2",
    ).run(recordHash(String(prev), forged));
    db.close();

    // Record 2 is sound by itself; the link from record 3 gives it away.
    expect(verify(path)).toMatchObject({ ok: false, problem: { seq: 2, kind: 'edited' } });
  });

  it('detects the last record rewritten together with its own hash', () => {
    const path = storeOf(3);
    const forged = makeRecord(3, { end_reason: 'ttl_expired' });
    const db = new Database(path);
    const prev = db.prepare('SELECT prev_hash FROM audit_records WHERE seq = 3').pluck().get();
    db.prepare("UPDATE audit_records SET end_reason = 'ttl_expired', hash = ? WHERE seq = 3").run(
      recordHash(String(prev), forged),
    );
    db.close();

    // No record follows it, but the head row still holds the original hash.
    expect(verify(path)).toMatchObject({ ok: false, problem: { seq: 3, kind: 'edited' } });
  });

  it('keeps a cut tail visible after further appends', () => {
    const path = storeOf(5);
    tamper(path, 'DELETE FROM audit_records WHERE seq = 5');

    const store = AuditStore.open(path);
    const next = store.append(makeRecord(6));
    store.close();

    expect(next.seq).toBe(6);
    expect(verify(path).problem).toMatchObject({ seq: 5, kind: 'missing' });
  });

  it('walks a long chain without a problem', () => {
    const store = AuditStore.open(':memory:');
    for (let i = 0; i < 2_000; i += 1) store.append(makeRecord(i));

    expect(store.verify()).toEqual({ ok: true, checked: 2_000 });
    store.close();
  });
});
