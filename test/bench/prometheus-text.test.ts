import { describe, expect, it } from 'vitest';

import {
  histogramDelta,
  histogramOf,
  histogramQuantile,
  sampleOf,
} from '../../bench/load/prometheus-text.js';

const scrape = (counts: [number, number, number, number], sum: number): string => `
# HELP voicebridge_media_tick_lateness_seconds How late media loop ticks started.
# TYPE voicebridge_media_tick_lateness_seconds histogram
voicebridge_media_tick_lateness_seconds_bucket{le="0.001"} ${counts[0]}
voicebridge_media_tick_lateness_seconds_bucket{le="0.01"} ${counts[1]}
voicebridge_media_tick_lateness_seconds_bucket{le="0.1"} ${counts[2]}
voicebridge_media_tick_lateness_seconds_bucket{le="+Inf"} ${counts[3]}
voicebridge_media_tick_lateness_seconds_sum ${sum}
voicebridge_media_tick_lateness_seconds_count ${counts[3]}
voicebridge_media_packets_received_total 1234
`;
const NAME = 'voicebridge_media_tick_lateness_seconds';

describe('Prometheus text for the load run', () => {
  it('reads a histogram and interpolates a quantile inside its bucket, as histogram_quantile does', () => {
    const histogram = histogramOf(scrape([50, 90, 100, 100], 1), NAME);
    expect(histogram?.count).toBe(100);
    // The 50th observation is the last of the first bucket; the 70th is half-way into the second.
    expect(histogramQuantile(histogram!, 0.5)).toBeCloseTo(0.001, 6);
    expect(histogramQuantile(histogram!, 0.7)).toBeCloseTo(0.0055, 6);
  });

  it('takes the growth between two scrapes, and gives the top bound for a quantile past it', () => {
    const before = histogramOf(scrape([50, 50, 50, 50], 0.01), NAME);
    const after = histogramOf(scrape([50, 50, 60, 150], 9), NAME)!;
    const delta = histogramDelta(before, after);
    expect(delta.buckets.map((b) => b.count)).toEqual([0, 0, 10, 100]);
    expect(histogramQuantile(delta, 0.99)).toBe(0.1);
    expect(histogramQuantile(histogramDelta(after, after), 0.99)).toBeNull();
  });

  it('reads a plain sample, and nothing for a name it lacks', () => {
    expect(sampleOf(scrape([0, 0, 0, 0], 0), 'voicebridge_media_packets_received_total')).toBe(
      1234,
    );
    expect(sampleOf('', 'voicebridge_media_packets_received_total')).toBeUndefined();
    expect(histogramOf('', NAME)).toBeUndefined();
  });
});
