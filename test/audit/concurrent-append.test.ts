import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { AuditStore } from '../../src/audit/audit-store.js';
import { makeRecord } from './fixtures/records.js';
import { startTypeScript } from './fixtures/spawn-ts.js';
import { useTempDir } from './fixtures/temp-dir.js';

describe('appends from several writers', () => {
  const tempDir = useTempDir();

  it('keeps one chain when two store instances take turns on one file', () => {
    const path = join(tempDir(), 'audit.db');
    const a = AuditStore.open(path);
    const b = AuditStore.open(path);

    for (let i = 0; i < 20; i += 1) (i % 3 === 0 ? b : a).append(makeRecord(i));
    a.close();
    b.close();

    const reader = AuditStore.openReadOnly(path);
    expect(reader.count()).toBe(20);
    expect(reader.verify()).toEqual({ ok: true, checked: 20 });
    reader.close();
  });

  it('keeps one chain when two processes append to one new file at once', async () => {
    const path = join(tempDir(), 'shared', 'audit.db');
    const child = new URL('./fixtures/append-many.ts', import.meta.url);

    const writers = [
      startTypeScript(child, [path, 'first', '200']),
      startTypeScript(child, [path, 'second', '200']),
    ];
    await Promise.all(writers.map((w) => w.printed('ready')));
    for (const writer of writers) writer.send('go');
    const results = await Promise.all(writers.map((w) => w.result));

    expect(results.map((r) => [r.code, r.stderr])).toEqual([
      [0, ''],
      [0, ''],
    ]);
    const reader = AuditStore.openReadOnly(path);
    expect(reader.count()).toBe(400);
    expect(reader.verify()).toEqual({ ok: true, checked: 400 });
    const ids = reader.find({}).map((r) => r.call_id);
    expect(ids.filter((id) => id.startsWith('first-'))).toHaveLength(200);
    expect(ids.filter((id) => id.startsWith('second-'))).toHaveLength(200);
    reader.close();
  });
});
