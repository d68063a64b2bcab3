import { describe, expect, it } from 'vitest';

import { LiveCounts } from '../../src/policy/live-counts.js';

describe('live counts', () => {
  it('counts up and down per key and never below zero', () => {
    const counts = new LiveCounts();
    counts.increment('a');
    counts.increment('a');
    counts.decrement('a');
    counts.decrement('b');
    expect(counts.get('a')).toBe(1);
    expect(counts.get('b')).toBe(0);
    counts.decrement('a');
    counts.decrement('a');
    expect(counts.get('a')).toBe(0);
  });

  it('sweeps keys that fell to zero once they pass the slack, keeping live ones', () => {
    const counts = new LiveCounts(10);
    counts.increment('live');
    for (let i = 0; i < 11; i++) {
      counts.increment(`k${i}`);
      counts.decrement(`k${i}`);
    }
    expect(counts.size).toBe(1);
    expect(counts.get('live')).toBe(1);
  });

  it('counts a key again after it fell to zero', () => {
    const counts = new LiveCounts(10);
    counts.increment('a');
    counts.decrement('a');
    counts.increment('a');
    expect(counts.get('a')).toBe(1);
    for (let i = 0; i < 20; i++) {
      counts.increment(`k${i}`);
      counts.decrement(`k${i}`);
    }
    expect(counts.get('a')).toBe(1);
  });
});
