import { createHash } from 'node:crypto';

import type { AuditRecord } from './audit-record.js';

// Changing the canonical form would make every stored chain fail verify, so the form is
// versioned and the version is part of what is hashed.
const HASH_DOMAIN = 'voicebridge-audit-record-v1';

/**
 * The canonical text of a record: JSON with object keys sorted at every depth and arrays kept
 * in order, holding only the record's own fields (never seq or hashes). The same record gives
 * the same text whatever order its keys were built in.
 */
export function canonicalRecord(record: AuditRecord): string {
  const own: AuditRecord = {
    call_id: record.call_id,
    room_id: record.room_id,
    caller: record.caller,
    callee: record.callee,
    state: record.state,
    end_reason: record.end_reason,
    start: record.start,
    end: record.end,
    duration: record.duration,
    token_usage: record.token_usage,
    policy_version: record.policy_version,
    events: record.events,
    violations: record.violations,
  };
  return canonicalJson(own);
}

/** The chain hash of a record: SHA-256, in hex, over the previous record's hash and this record. */
export function recordHash(prevHash: string, record: AuditRecord): string {
  return createHash('sha256')
    .update(HASH_DOMAIN)
    .update('\n')
    .update(prevHash)
    .update('\n')
    .update(canonicalRecord(record))
    .digest('hex');
}

/** Sorted-key JSON; `undefined` members are left out, as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const fields = value as Record<string, unknown>;
    const members = Object.keys(fields)
      .filter((key) => fields[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(fields[key])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}
