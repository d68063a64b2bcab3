import type { AuditRecord, StoredAuditRecord } from './audit-record.js';

/** The schema version this code writes and reads. */
export const SCHEMA_VERSION = 1;

/**
 * Tables and indexes. `seq` is given by the store, not by SQLite, so it always continues from
 * the head and a removed record leaves a visible gap. `events` and `violations` hold canonical
 * JSON. The single `audit_meta` row holds the head of the chain, written in the same
 * transaction as each record, so records cut from the end are noticed too.
 */
export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS audit_records (
  seq            INTEGER PRIMARY KEY,
  call_id        TEXT    NOT NULL,
  room_id        TEXT    NOT NULL,
  caller         TEXT    NOT NULL,
  callee         TEXT    NOT NULL,
  state          TEXT    NOT NULL,
  end_reason     TEXT    NOT NULL,
  start          INTEGER NOT NULL,
  "end"          INTEGER NOT NULL,
  duration       INTEGER NOT NULL,
  input_tokens   INTEGER NOT NULL,
  output_tokens  INTEGER NOT NULL,
  model          TEXT    NOT NULL,
  policy_version TEXT    NOT NULL,
  events         TEXT    NOT NULL,
  violations     TEXT    NOT NULL,
  prev_hash      TEXT    NOT NULL,
  hash           TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_records_start ON audit_records (start);
CREATE INDEX IF NOT EXISTS audit_records_end ON audit_records ("end");
CREATE INDEX IF NOT EXISTS audit_records_state ON audit_records (state, end_reason);
CREATE INDEX IF NOT EXISTS audit_records_call_id ON audit_records (call_id);
CREATE TABLE IF NOT EXISTS audit_meta (
  id             INTEGER PRIMARY KEY CHECK (id = 1),
  schema_version INTEGER NOT NULL,
  head_seq       INTEGER NOT NULL,
  head_hash      TEXT    NOT NULL
);
`;

/** Marks the link of a record appended while the head row was missing. */
export const HEAD_MISSING_MARK = 'head-missing:';

/** Writes the head row. Run in the transaction that appends the record it points at. */
export const WRITE_HEAD_SQL = `
INSERT INTO audit_meta (id, schema_version, head_seq, head_hash)
  VALUES (1, ${SCHEMA_VERSION}, @seq, @hash)
  ON CONFLICT (id) DO UPDATE SET head_seq = excluded.head_seq, head_hash = excluded.head_hash`;

/** A row of `audit_records` as SQLite hands it back. Typed loosely: a row may have been edited. */
export interface AuditRow {
  seq: number;
  call_id: unknown;
  room_id: unknown;
  caller: unknown;
  callee: unknown;
  state: unknown;
  end_reason: unknown;
  start: unknown;
  end: unknown;
  duration: unknown;
  input_tokens: unknown;
  output_tokens: unknown;
  model: unknown;
  policy_version: unknown;
  events: unknown;
  violations: unknown;
  prev_hash: unknown;
  hash: unknown;
}

/** The head of the chain as `audit_meta` records it. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** The insert statement; its named parameters are those of `recordParams`. */
export const INSERT_SQL = `
INSERT INTO audit_records (
  seq, call_id, room_id, caller, callee, state, end_reason, start, "end", duration,
  input_tokens, output_tokens, model, policy_version, events, violations, prev_hash, hash
) VALUES (
  @seq, @call_id, @room_id, @caller, @callee, @state, @end_reason, @start, @end, @duration,
  @input_tokens, @output_tokens, @model, @policy_version, @events, @violations, @prev_hash, @hash
)`;

/** Named parameters for INSERT_SQL. `eventsJson` and `violationsJson` are canonical JSON. */
export function recordParams(
  stored: StoredAuditRecord,
  eventsJson: string,
  violationsJson: string,
): Record<string, string | number> {
  return {
    seq: stored.seq,
    call_id: stored.call_id,
    room_id: stored.room_id,
    caller: stored.caller,
    callee: stored.callee,
    state: stored.state,
    end_reason: stored.end_reason,
    start: stored.start,
    end: stored.end,
    duration: stored.duration,
    input_tokens: stored.token_usage.input_tokens,
    output_tokens: stored.token_usage.output_tokens,
    model: stored.token_usage.model,
    policy_version: stored.policy_version,
    events: eventsJson,
    violations: violationsJson,
    prev_hash: stored.prev_hash,
    hash: stored.hash,
  };
}

/**
 * Rebuilds a stored record from its row, exactly as stored: no checks beyond parsing the JSON
 * columns, so that an edited value changes the record's hash instead of being smoothed over.
 * Throws SyntaxError when a JSON column no longer parses.
 */
export function rowToRecord(row: AuditRow): StoredAuditRecord {
  const record = {
    call_id: row.call_id,
    room_id: row.room_id,
    caller: row.caller,
    callee: row.callee,
    state: row.state,
    end_reason: row.end_reason,
    start: row.start,
    end: row.end,
    duration: row.duration,
    token_usage: {
      input_tokens: row.input_tokens,
      output_tokens: row.output_tokens,
      model: row.model,
    },
    policy_version: row.policy_version,
    events: JSON.parse(String(row.events)) as unknown,
    violations: JSON.parse(String(row.violations)) as unknown,
  } as AuditRecord;
  return { ...record, seq: row.seq, prev_hash: String(row.prev_hash), hash: String(row.hash) };
}
