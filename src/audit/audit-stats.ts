import type Database from 'better-sqlite3';

import { whereClause, type AuditFilter } from './audit-filter.js';
import type { CallState } from './audit-record.js';

/** How many records share one value of something. */
export interface Tally {
  key: string;
  count: number;
}

/** One policy version and the calls decided under it. Times are call starts. */
export interface PolicyVersionSeen {
  version: string;
  calls: number;
  first_seen: number;
  last_seen: number;
}

/** Totals over a set of audit records, each counted in SQL. */
export interface AuditStats {
  calls: Record<CallState, number>;
  /** End reasons per final state, most frequent first. */
  reasons: Record<CallState, Tally[]>;
  /** Violation kinds over all records, most frequent first. */
  violations: Tally[];
  /** Policy versions, the earliest first seen first. */
  policy_versions: PolicyVersionSeen[];
  input_tokens: number;
  output_tokens: number;
  /** Mean duration of calls that were let in (not denied), or null when there were none. */
  average_duration: number | null;
}

/**
 * Reads every total for the records matching `filter`, inside one read transaction so the
 * numbers agree with each other while another process appends.
 */
export function readAuditStats(db: Database.Database, filter: AuditFilter): AuditStats {
  const where = whereClause(filter);
  // Without statistics SQLite prefers the state index for GROUP BY state and then reads every
  // row; a report window is usually a small part of the store, so read it by end time instead.
  const records = where.timeBound ? 'audit_records INDEXED BY audit_records_end' : 'audit_records';
  const and = (condition: string): string =>
    where.sql === '' ? `WHERE ${condition}` : `${where.sql} AND ${condition}`;

  const read = db.transaction((): AuditStats => {
    const calls: Record<CallState, number> = { ended: 0, denied: 0, failed: 0 };
    const stateRows = db
      .prepare(`SELECT state, COUNT(*) AS count FROM ${records} ${where.sql} GROUP BY state`)
      .all(where.params) as { state: string; count: number }[];
    for (const row of stateRows) {
      if (isState(row.state)) calls[row.state] = row.count;
    }

    const reasons: Record<CallState, Tally[]> = { ended: [], denied: [], failed: [] };
    const reasonRows = db
      .prepare(
        `SELECT state, end_reason AS key, COUNT(*) AS count FROM ${records} ${where.sql}
         GROUP BY state, end_reason ORDER BY count DESC, key`,
      )
      .all(where.params) as { state: string; key: string; count: number }[];
    for (const row of reasonRows) {
      if (isState(row.state)) reasons[row.state].push({ key: row.key, count: row.count });
    }

    // An edited row whose violations no longer parse is counted as having none: verify is
    // what reports the edit, and the report should still come out.
    const violations = db
      .prepare(
        `SELECT kind.value AS key, COUNT(*) AS count
         FROM ${records},
              json_each(CASE WHEN json_valid(violations) THEN violations ELSE '[]' END) AS kind
         ${where.sql} GROUP BY kind.value ORDER BY count DESC, key`,
      )
      .all(where.params) as Tally[];

    const policyVersions = db
      .prepare(
        `SELECT policy_version AS version, COUNT(*) AS calls,
                MIN(start) AS first_seen, MAX(start) AS last_seen
         FROM ${records} ${where.sql}
         GROUP BY policy_version ORDER BY first_seen, version`,
      )
      .all(where.params) as PolicyVersionSeen[];

    const totals = db
      .prepare(
        `SELECT TOTAL(input_tokens) AS input_tokens,
                TOTAL(output_tokens) AS output_tokens
         FROM ${records} ${where.sql}`,
      )
      .get(where.params) as { input_tokens: number; output_tokens: number };

    const admitted = db
      .prepare(`SELECT AVG(duration) AS average FROM ${records} ${and("state <> 'denied'")}`)
      .get(where.params) as { average: number | null };

    return {
      calls,
      reasons,
      violations,
      policy_versions: policyVersions,
      input_tokens: totals.input_tokens,
      output_tokens: totals.output_tokens,
      average_duration: admitted.average === null ? null : Math.round(admitted.average),
    };
  });
  return read.deferred();
}

function isState(value: string): value is CallState {
  return value === 'ended' || value === 'denied' || value === 'failed';
}
