/** The longest text kept in an audit field; Matrix ids are at most 255 bytes. */
const MAX_TEXT = 255;

/**
 * Text fit for an audit record, whatever came in: a string of well-formed Unicode (a lone
 * surrogate would not survive storage and would break the hash chain), at most 255
 * characters, and never empty (`fallback` instead).
 */
export function auditText(value: unknown, fallback = '(none)'): string {
  const text = typeof value === 'string' ? value.toWellFormed() : '';
  if (text === '') return fallback;
  return text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
}

/** A count fit for an audit record: a non-negative safe integer. */
export function auditCount(value: number): number {
  if (!Number.isFinite(value) || value <= 0) return 0;
  return Math.min(Math.floor(value), Number.MAX_SAFE_INTEGER);
}
