/** p50, p95 and p99 of a set of samples, with how many there were. */
export interface Percentiles {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

/** The nearest-rank percentile `p` (0 to 100) of sorted samples. */
function rank(sorted: readonly number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

/** Percentiles of the defined samples, rounded to 0.1 ms; null when there are none. */
export function percentiles(samples: ReadonlyArray<number | undefined>): Percentiles {
  const sorted = samples
    .filter((s): s is number => s !== undefined && Number.isFinite(s))
    .sort((a, b) => a - b);
  if (sorted.length === 0) return { count: 0, p50: null, p95: null, p99: null, max: null };
  const round = (v: number): number => Math.round(v * 10) / 10;
  return {
    count: sorted.length,
    p50: round(rank(sorted, 50)),
    p95: round(rank(sorted, 95)),
    p99: round(rank(sorted, 99)),
    max: round(sorted[sorted.length - 1] as number),
  };
}
