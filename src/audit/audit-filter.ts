import { AuditError, describeValue } from './audit-error.js';
import type { CallState } from './audit-record.js';

/** Which records a query looks at. Times are milliseconds since the epoch. */
export interface AuditFilter {
  /** Only calls that ended at or after this time. */
  since?: number;
  /** Only calls that ended before this time. */
  until?: number;
  /** Only calls that finished in this state. */
  state?: CallState;
}

/** A WHERE clause (empty, or starting with `WHERE`) and its named parameters. */
export interface WhereClause {
  sql: string;
  params: Record<string, string | number>;
  /** True when the clause bounds the end time, so the `end` index narrows the rows. */
  timeBound: boolean;
}

const STATES: ReadonlySet<unknown> = new Set<CallState>(['ended', 'denied', 'failed']);

/**
 * Turns a filter into SQL over `audit_records`, bounding the indexed `end` and `state` columns.
 * Throws AuditError `invalid_query` naming the bad option.
 */
export function whereClause(filter: AuditFilter, extra: string[] = []): WhereClause {
  const conditions = [...extra];
  const params: Record<string, string | number> = {};

  if (filter.since !== undefined) {
    params.since = timeOption('since', filter.since);
    conditions.push('"end" >= @since');
  }
  if (filter.until !== undefined) {
    params.until = timeOption('until', filter.until);
    conditions.push('"end" < @until');
  }
  if (filter.state !== undefined) {
    if (!STATES.has(filter.state)) {
      throw new AuditError(
        'invalid_query',
        `audit query: state: expected ended, denied or failed, got ${describeValue(filter.state)}`,
        'state',
      );
    }
    params.state = filter.state;
    conditions.push('state = @state');
  }

  const sql = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
  return { sql, params, timeBound: filter.since !== undefined || filter.until !== undefined };
}

function timeOption(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new AuditError(
      'invalid_query',
      `audit query: ${field}: expected milliseconds since the epoch, got ${describeValue(value)}`,
      field,
    );
  }
  return value;
}

/** Checks a row limit for a query. */
export function limitOption(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new AuditError(
      'invalid_query',
      `audit query: limit: expected a non-negative integer, got ${describeValue(value)}`,
      'limit',
    );
  }
  return value;
}
