import { describe, expect, it } from 'vitest';

import { FrameQueue } from '../../../workers/agents/frame-queue.js';

function pushNumbered(queue: FrameQueue, value: number): void {
  queue.push().fill(value);
}

describe('FrameQueue', () => {
  it('hands frames out oldest first, then undefined', () => {
    const queue = new FrameQueue(4);
    pushNumbered(queue, 1);
    pushNumbered(queue, 2);

    expect(queue.shift()?.[0]).toBe(1);
    expect(queue.shift()?.[0]).toBe(2);
    expect(queue.shift()).toBeUndefined();
  });

  it('drops the oldest frames beyond its capacity and counts them', () => {
    const queue = new FrameQueue(3);
    for (let i = 1; i <= 7; i += 1) pushNumbered(queue, i);

    const out: number[] = [];
    for (let frame = queue.shift(); frame !== undefined; frame = queue.shift()) {
      out.push(frame[0] ?? -1);
    }

    expect(out).toEqual([5, 6, 7]);
    expect(queue.dropped).toBe(4);
    expect(queue.length).toBe(0);
  });

  it('leaves the frame it handed out alone until the next shift, even when full', () => {
    const queue = new FrameQueue(2);
    pushNumbered(queue, 1);
    pushNumbered(queue, 2);

    const lent = queue.shift();
    for (let i = 3; i <= 10; i += 1) pushNumbered(queue, i);

    expect(lent?.every((sample) => sample === 1)).toBe(true);
    expect(queue.shift()?.[0]).toBe(9);
  });

  it('reuses its buffers instead of allocating one per frame', () => {
    const queue = new FrameQueue(2);
    const seen = new Set<Int16Array>();
    for (let i = 0; i < 100; i += 1) {
      seen.add(queue.push());
      if (i % 3 === 0) queue.shift();
    }

    // At most the capacity, plus the one frame lent out.
    expect(seen.size).toBeLessThanOrEqual(3);
  });

  it('is empty after clear', () => {
    const queue = new FrameQueue(2);
    pushNumbered(queue, 1);
    queue.clear();

    expect(queue.length).toBe(0);
    expect(queue.shift()).toBeUndefined();
  });
});
