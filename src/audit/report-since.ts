import { parseDuration } from '../config/duration.js';

// Date.parse alone would also take "March 7" or roll "2026-02-30" over into March.
const ISO_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/**
 * Reads the start of a report window: an ISO 8601 timestamp (`2026-03-01`,
 * `2026-03-01T08:00:00Z`; a date-time without an offset is local time) or a duration back from
 * `now` such as `24h`, `7d`, `90m` or `1h30m`. Returns ms since the epoch, or undefined when
 * the text is neither.
 */
export function parseSince(text: string, now: number): number | undefined {
  const back = parseDuration(text);
  if (back !== undefined) return now - back;

  const match = ISO_TIMESTAMP.exec(text.trim());
  if (match === null) return undefined;

  const [year, month, day] = [match[1], match[2], match[3]].map(Number) as [number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return undefined;

  const ms = Date.parse(text.trim());
  return Number.isNaN(ms) ? undefined : ms;
}
