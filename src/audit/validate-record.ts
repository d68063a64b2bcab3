import { AuditError, describeValue } from './audit-error.js';
import type { AuditEvent, AuditRecord, CallState, TokenUsage } from './audit-record.js';

const CALL_STATES: ReadonlySet<string> = new Set<CallState>(['ended', 'denied', 'failed']);

const RECORD_FIELDS: ReadonlySet<string> = new Set<keyof AuditRecord>([
  'call_id',
  'room_id',
  'caller',
  'callee',
  'state',
  'end_reason',
  'start',
  'end',
  'duration',
  'token_usage',
  'policy_version',
  'events',
  'violations',
]);
const USAGE_FIELDS: ReadonlySet<string> = new Set<keyof TokenUsage>([
  'input_tokens',
  'output_tokens',
  'model',
]);
const EVENT_FIELDS: ReadonlySet<string> = new Set<keyof AuditEvent>(['at', 'event', 'detail']);

// A lone surrogate would be replaced when SQLite stores the text as UTF-8, so the record read
// back would no longer match its hash: refuse it rather than store a record that fails verify.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Checks an audit record from outside and returns a clean copy holding exactly the known
 * fields. Throws AuditError `invalid_record` naming the first bad field and its value; unknown
 * fields are refused too, since the store would otherwise drop them without a word.
 */
export function validateAuditRecord(input: unknown): AuditRecord {
  const raw = objectAt('record', input, RECORD_FIELDS);

  const start = timestampAt('start', raw.start);
  const end = timestampAt('end', raw.end);
  if (end < start) fail('end', `a time not before start (${start})`, raw.end);

  return {
    call_id: textAt('call_id', raw.call_id),
    room_id: textAt('room_id', raw.room_id),
    caller: textAt('caller', raw.caller),
    callee: textAt('callee', raw.callee),
    state: stateAt('state', raw.state),
    end_reason: textAt('end_reason', raw.end_reason),
    start,
    end,
    duration: countAt('duration', raw.duration),
    token_usage: usageAt('token_usage', raw.token_usage),
    policy_version: textAt('policy_version', raw.policy_version),
    events: listAt('events', raw.events).map((item, i) => eventAt(`events[${i}]`, item)),
    violations: listAt('violations', raw.violations).map((item, i) =>
      textAt(`violations[${i}]`, item),
    ),
  };
}

function usageAt(field: string, value: unknown): TokenUsage {
  const raw = objectAt(field, value, USAGE_FIELDS);
  return {
    input_tokens: countAt(`${field}.input_tokens`, raw.input_tokens),
    output_tokens: countAt(`${field}.output_tokens`, raw.output_tokens),
    model: textAt(`${field}.model`, raw.model, true),
  };
}

function eventAt(field: string, value: unknown): AuditEvent {
  const raw = objectAt(field, value, EVENT_FIELDS);
  const event: AuditEvent = {
    at: timestampAt(`${field}.at`, raw.at),
    event: textAt(`${field}.event`, raw.event),
  };
  if (raw.detail !== undefined) event.detail = detailAt(`${field}.detail`, raw.detail);
  return event;
}

function detailAt(field: string, value: unknown): Record<string, string | number | boolean> {
  const raw = objectAt(field, value);
  const entries = Object.entries(raw).map(([key, item]): [string, string | number | boolean] => {
    const at = `${field}.${key}`;
    if (LONE_SURROGATE.test(key)) fail(at, 'a key of well-formed Unicode text', key);
    if (typeof item === 'string') return [key, textAt(at, item, true)];
    if (typeof item === 'boolean') return [key, item];
    // NaN and Infinity would come back from JSON as null.
    if (typeof item === 'number' && Number.isFinite(item)) return [key, item];
    return fail(at, 'a string, a finite number or a boolean', item);
  });
  // fromEntries defines own properties, so a `__proto__` key stays plain data.
  return Object.fromEntries(entries);
}

function objectAt(
  field: string,
  value: unknown,
  known?: ReadonlySet<string>,
): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(field, 'an object', value);
  }
  const raw = value as Record<string, unknown>;
  if (known !== undefined) {
    for (const key of Object.keys(raw)) {
      if (!known.has(key)) {
        const at = field === 'record' ? key : `${field}.${key}`;
        throw new AuditError(
          'invalid_record',
          `audit record: ${at}: unknown field (value ${describeValue(raw[key])})`,
          at,
        );
      }
    }
  }
  return raw;
}

function listAt(field: string, value: unknown): unknown[] {
  if (!Array.isArray(value)) fail(field, 'an array', value);
  return value as unknown[];
}

function textAt(field: string, value: unknown, emptyAllowed = false): string {
  if (typeof value !== 'string') return fail(field, 'a string', value);
  if (!emptyAllowed && value === '') fail(field, 'a non-empty string', value);
  if (LONE_SURROGATE.test(value)) fail(field, 'well-formed Unicode text', value);
  return value;
}

function stateAt(field: string, value: unknown): CallState {
  if (typeof value !== 'string' || !CALL_STATES.has(value)) {
    fail(field, `one of ${[...CALL_STATES].join(', ')}`, value);
  }
  return value as CallState;
}

// The latest time a Date can hold; later ones could not be shown in a report.
const LATEST_TIME = 8_640_000_000_000_000;

function timestampAt(field: string, value: unknown): number {
  const expected = 'milliseconds since the epoch as a non-negative integer';
  const ms = countAt(field, value, expected);
  if (ms > LATEST_TIME) fail(field, expected, value);
  return ms;
}

function countAt(field: string, value: unknown, expected = 'a non-negative integer'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    fail(field, expected, value);
  }
  // -0 passes the checks above; store it as 0 so the hash does not depend on the sign.
  return value + 0;
}

function fail(field: string, expected: string, value: unknown): never {
  throw new AuditError(
    'invalid_record',
    `audit record: ${field}: expected ${expected}, got ${describeValue(value)}`,
    field,
  );
}
