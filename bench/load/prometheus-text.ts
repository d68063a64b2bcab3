/** A histogram's cumulative bucket counts, by upper bound (`+Inf` last). */
export interface Histogram {
  buckets: Array<{ le: number; count: number }>;
  sum: number;
  count: number;
}

/** A plain sample (counter or gauge) without labels, or undefined when absent. */
export function sampleOf(text: string, name: string): number | undefined {
  const match = new RegExp(`^${name}(?:\\{\\})? (\\S+)$`, 'm').exec(text);
  return match === null ? undefined : Number(match[1]);
}

/** Reads the histogram `name` (without labels) from Prometheus text; undefined when absent. */
export function histogramOf(text: string, name: string): Histogram | undefined {
  const buckets: Array<{ le: number; count: number }> = [];
  const bucket = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`, 'gm');
  for (const match of text.matchAll(bucket)) {
    const le = match[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(match[1]);
    buckets.push({ le, count: Number(match[2]) });
  }
  if (buckets.length === 0) return undefined;
  buckets.sort((a, b) => a.le - b.le);
  return {
    buckets,
    sum: sampleOf(text, `${name}_sum`) ?? 0,
    count: sampleOf(text, `${name}_count`) ?? 0,
  };
}

/** `after` minus `before`, bucket by bucket: what was observed between two scrapes. */
export function histogramDelta(before: Histogram | undefined, after: Histogram): Histogram {
  if (before === undefined) return after;
  return {
    buckets: after.buckets.map((b, i) => ({
      le: b.le,
      count: b.count - (before.buckets[i]?.count ?? 0),
    })),
    sum: after.sum - before.sum,
    count: after.count - before.count,
  };
}

/**
 * The quantile `q` (0 to 1) of a histogram, interpolated linearly inside its bucket as
 * Prometheus's `histogram_quantile` does; the highest finite bound when it falls in `+Inf`;
 * null when nothing was observed.
 */
export function histogramQuantile(histogram: Histogram, q: number): number | null {
  const total = histogram.buckets[histogram.buckets.length - 1]?.count ?? 0;
  if (total <= 0) return null;
  const target = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const { le, count } of histogram.buckets) {
    if (count >= target) {
      if (!Number.isFinite(le)) return lowerBound;
      const inBucket = count - lowerCount;
      return inBucket <= 0
        ? le
        : lowerBound + ((le - lowerBound) * (target - lowerCount)) / inBucket;
    }
    lowerBound = Number.isFinite(le) ? le : lowerBound;
    lowerCount = count;
  }
  return lowerBound;
}
