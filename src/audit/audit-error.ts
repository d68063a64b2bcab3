/** Stable codes for everything the audit store can refuse or fail at. */
export type AuditErrorCode =
  | 'invalid_record'
  | 'invalid_query'
  | 'store_not_found'
  | 'store_unreadable'
  | 'store_closed'
  | 'store_read_only'
  | 'write_failed';

/** An audit store failure. `code` is what logs, metrics and tests match on. */
export class AuditError extends Error {
  constructor(
    readonly code: AuditErrorCode,
    message: string,
    /** The record field or query option at fault, when there is one. */
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AuditError';
  }
}

/** Renders a rejected value for an error message: short, one line, never the whole input. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'function' || typeof value === 'symbol') return typeof value;

  let text: string;
  try {
    text = JSON.stringify(value) ?? typeof value;
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
