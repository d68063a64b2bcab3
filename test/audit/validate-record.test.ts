import { describe, expect, it } from 'vitest';

import { AuditError } from '../../src/audit/audit-error.js';
import type { AuditRecord } from '../../src/audit/audit-record.js';
import { AuditStore } from '../../src/audit/audit-store.js';
import { makeRecord } from './fixtures/records.js';

/** A record with one field replaced by something of the wrong shape. */
function withField(path: string[], value: unknown): AuditRecord {
  const record = structuredClone(makeRecord(1)) as unknown as Record<string, unknown>;
  let target = record;
  for (const key of path.slice(0, -1)) target = target[key] as Record<string, unknown>;
  target[path[path.length - 1] ?? ''] = value;
  return record as unknown as AuditRecord;
}

describe('append refuses a bad record', () => {
  const cases: [string, AuditRecord, string, string][] = [
    ['a missing call id', withField(['call_id'], undefined), 'call_id', 'undefined'],
    ['an empty room id', withField(['room_id'], ''), 'room_id', '""'],
    ['a numeric caller', withField(['caller'], 42), 'caller', '42'],
    ['an unknown state', withField(['state'], 'hung'), 'state', '"hung"'],
    ['a fractional start', withField(['start'], 1.5), 'start', '1.5'],
    ['an end before the start', withField(['end'], 0), 'end', '0'],
    ['a negative duration', withField(['duration'], -5), 'duration', '-5'],
    [
      'a token count given as text',
      withField(['token_usage', 'input_tokens'], '100'),
      'token_usage.input_tokens',
      '"100"',
    ],
    ['no token usage', withField(['token_usage'], null), 'token_usage', 'null'],
    ['events that are not a list', withField(['events'], {}), 'events', '{}'],
    ['an event without a time', withField(['events', '0', 'at'], 'now'), 'events[0].at', '"now"'],
    [
      'an event detail that is not a primitive',
      withField(['events', '1', 'detail', 'tokens'], [1]),
      'events[1].detail.tokens',
      '[1]',
    ],
    [
      'an event detail number JSON cannot hold',
      withField(['events', '1', 'detail', 'tokens'], Number.POSITIVE_INFINITY),
      'events[1].detail.tokens',
      'Infinity',
    ],
    ['a violation that is not text', withField(['violations'], [7]), 'violations[0]', '7'],
    ['text with a lone surrogate', withField(['caller'], '@a\ud800:x'), 'caller', '"@a\\ud800:x"'],
    ['an unknown field', withField(['secret'], 'token'), 'secret', '"token"'],
    [
      'an unknown token usage field',
      withField(['token_usage', 'cost'], 3),
      'token_usage.cost',
      '3',
    ],
  ];

  it.each(cases)(
    'refuses %s, naming the field and value, and writes nothing',
    (_, record, field, value) => {
      const store = AuditStore.open(':memory:');

      let error: unknown;
      try {
        store.append(record);
      } catch (caught) {
        error = caught;
      }

      expect(error).toBeInstanceOf(AuditError);
      expect(error).toMatchObject({ code: 'invalid_record', field });
      expect((error as Error).message).toContain(field);
      expect((error as Error).message).toContain(value);
      expect(store.count()).toBe(0);
      expect(store.head()).toEqual({ seq: 0, hash: '' });
      store.close();
    },
  );

  it('still takes a record with no detail on its events and an empty model', () => {
    const store = AuditStore.open(':memory:');
    const record = makeRecord(1, {
      events: [{ at: makeRecord(1).start, event: 'voice_call_started' }],
      token_usage: { input_tokens: 0, output_tokens: 0, model: '' },
    });

    expect(store.append(record)).toMatchObject(record);
    store.close();
  });
});
