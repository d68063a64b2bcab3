/**
 * Least-squares growth fits for the leak report: a straight line through (x, y) points with the
 * standard error of its slope and a 95 % confidence interval.
 *
 * Memory samples are not independent: a heap that grows and is collected makes runs of residuals
 * on the same side of the line, and plain least squares then claims more confidence than the data
 * holds. The standard error is widened by the lag-1 autocorrelation of the residuals (the
 * effective number of points is n (1 - r) / (1 + r)), so a short or sawtoothed series shows the
 * uncertainty it really has.
 */

/** A fitted line and how far its slope can be trusted. */
export interface GrowthFit {
  /** Points used. */
  n: number;
  /** Points the residuals' autocorrelation leaves as independent (at most n). */
  effectiveN: number;
  /** y per unit of x. */
  slope: number;
  intercept: number;
  /** Standard error of the slope, widened for autocorrelation; Infinity when unknowable. */
  slopeStdError: number;
  /** 95 % confidence interval of the slope. */
  slopeLow: number;
  slopeHigh: number;
  /** Span of x the fit covers. */
  xSpan: number;
  /** Lag-1 autocorrelation of the residuals, clamped to [0, 0.95]. */
  residualAutocorrelation: number;
}

/** Fits y = intercept + slope x by least squares. Needs at least two distinct x values. */
export function fitGrowth(xs: readonly number[], ys: readonly number[]): GrowthFit | undefined {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return undefined;

  let sumX = 0;
  let sumY = 0;
  for (let i = 0; i < n; i++) {
    sumX += xs[i] as number;
    sumY += ys[i] as number;
  }
  const meanX = sumX / n;
  const meanY = sumY / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - meanX;
    sxx += dx * dx;
    sxy += dx * ((ys[i] as number) - meanY);
  }
  if (sxx === 0) return undefined;
  const slope = sxy / sxx;
  const intercept = meanY - slope * meanX;

  const residuals: number[] = [];
  let sse = 0;
  for (let i = 0; i < n; i++) {
    const r = (ys[i] as number) - (intercept + slope * (xs[i] as number));
    residuals.push(r);
    sse += r * r;
  }
  // Residuals at rounding level mean an exact line: their pattern says nothing about the data.
  const exact = Math.sqrt(sse / n) <= 1e-9 * (Math.abs(meanY) + 1);
  const rho = exact ? 0 : lagOneAutocorrelation(residuals);
  const effectiveN = Math.max(2, Math.min(n, (n * (1 - rho)) / (1 + rho)));
  let stdError = Number.POSITIVE_INFINITY;
  let half = Number.POSITIVE_INFINITY;
  if (n > 2 && effectiveN > 2) {
    const plain = Math.sqrt(sse / (n - 2) / sxx);
    stdError = plain * Math.sqrt((n - 2) / (effectiveN - 2));
    half = tQuantile975(effectiveN - 2) * stdError;
  }
  let xMin = Number.POSITIVE_INFINITY;
  let xMax = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    xMin = Math.min(xMin, xs[i] as number);
    xMax = Math.max(xMax, xs[i] as number);
  }
  return {
    n,
    effectiveN,
    slope,
    intercept,
    slopeStdError: stdError,
    slopeLow: slope - half,
    slopeHigh: slope + half,
    xSpan: xMax - xMin,
    residualAutocorrelation: rho,
  };
}

/** Lag-1 autocorrelation of a series, clamped to [0, 0.95] (negative values widen nothing). */
function lagOneAutocorrelation(values: readonly number[]): number {
  if (values.length < 3) return 0;
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < values.length; i++) {
    const d = (values[i] as number) - mean;
    den += d * d;
    if (i > 0) num += d * ((values[i - 1] as number) - mean);
  }
  if (den === 0) return 0;
  return Math.min(0.95, Math.max(0, num / den));
}

/** Two-sided 95 % quantile of Student's t with `df` degrees of freedom (df may be fractional). */
export function tQuantile975(df: number): number {
  if (!(df > 0)) return Number.POSITIVE_INFINITY;
  // Exact values for small df; above 30, the Cornish-Fisher expansion is within 1e-4.
  const table = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16,
    2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052,
    2.048, 2.045, 2.042,
  ];
  if (df < 1) return table[0] as number;
  if (df <= 30) {
    const low = Math.floor(df);
    const high = Math.min(30, low + 1);
    const a = table[low - 1] as number;
    const b = table[high - 1] as number;
    return a + (b - a) * (df - low);
  }
  const z = 1.959964;
  const z3 = z ** 3;
  const z5 = z ** 5;
  const z7 = z ** 7;
  return (
    z +
    (z3 + z) / (4 * df) +
    (5 * z5 + 16 * z3 + 3 * z) / (96 * df ** 2) +
    (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * df ** 3)
  );
}
