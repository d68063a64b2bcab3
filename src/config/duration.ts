/** Units a duration string may use, in milliseconds. */
const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/**
 * Parses a duration such as "500ms", "90s", "30m", "1h" or "1h30m" into milliseconds.
 * Returns undefined for anything else (empty, negative, unknown unit, trailing text).
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (trimmed === '0') return 0;

  let total = 0;
  // Each unit at most once, largest first: "1h30m" but not "30m1h" or "1h1h".
  let previousUnit = Number.POSITIVE_INFINITY;
  PART.lastIndex = 0;
  while (PART.lastIndex < trimmed.length) {
    const match = PART.exec(trimmed);
    if (match === null) return undefined;
    const unit = UNIT_MS[match[2] ?? ''] ?? Number.NaN;
    if (!(unit < previousUnit)) return undefined;
    previousUnit = unit;
    total += Number(match[1]) * unit;
  }
  return Number.isFinite(total) ? Math.round(total) : undefined;
}

/** Formats milliseconds as the shortest duration string that parses back to the same value. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
    ['ms', 1],
  ] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
}
