/** Small helpers for the report's figures and thread names. */

/** `main` first, then workers by loop number. */
export function threadOrder(a: string, b: string): number {
  if (a === b) return 0;
  if (a === 'main') return -1;
  if (b === 'main') return 1;
  const na = Number(a.split('-')[1]);
  const nb = Number(b.split('-')[1]);
  return Number.isFinite(na) && Number.isFinite(nb) ? na - nb : a.localeCompare(b);
}

/** The value, or undefined when it is not a finite number. */
export function finite(value: number | undefined): number | undefined {
  return value === undefined || !Number.isFinite(value) ? undefined : value;
}

/** A figure for the report; `?` when unknown. */
export function fmt(value: number | undefined, digits = 2): string {
  if (value === undefined || !Number.isFinite(value)) return '?';
  return value.toFixed(digits);
}
