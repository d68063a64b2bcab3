import { describe, expect, it } from 'vitest';

import { canonicalRecord, recordHash } from '../../src/audit/record-hash.js';
import { makeRecord } from './fixtures/records.js';

describe('record hash', () => {
  it('serialises with keys sorted at every depth and list order kept', () => {
    const text = canonicalRecord(
      makeRecord(1, {
        events: [{ at: 2, event: 'b', detail: { z: 1, a: true } }],
        violations: ['ttl_exceeded', 'budget_exceeded'],
      }),
    );

    expect(Object.keys(JSON.parse(text) as object)).toEqual(Object.keys(makeRecord(1)).sort());
    expect(text).toContain('"detail":{"a":true,"z":1}');
    expect(text).toContain('"violations":["ttl_exceeded","budget_exceeded"]');
  });

  it('leaves out the chain fields of a stored record', () => {
    const record = makeRecord(1);
    const stored = { ...record, seq: 9, prev_hash: 'aa', hash: 'bb' };

    expect(canonicalRecord(stored)).toBe(canonicalRecord(record));
  });

  it('changes with the previous hash and with any field', () => {
    const record = makeRecord(1);
    const base = recordHash('', record);

    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(recordHash('', makeRecord(1))).toBe(base);
    expect(recordHash('00', record)).not.toBe(base);
    expect(recordHash('', { ...record, duration: record.duration + 1 })).not.toBe(base);
    expect(
      recordHash('', { ...record, token_usage: { ...record.token_usage, model: 'other' } }),
    ).not.toBe(base);
  });
});
