import { Worker } from 'node:worker_threads';

import { describe, expect, it } from 'vitest';

import { F64, I32, SlotError, SlotTable, type SlotLimits } from '../../src/engine/slot-table.js';
import { stopReasonCode, stopReasonOf } from '../../src/engine/stop-reason.js';

const limits = (startedAt = 1_000): SlotLimits => ({
  startedAt,
  tokenLimit: 100,
  durationDeadline: startedAt + 60_000,
  idleTtl: 10_000,
  maxTtlDeadline: startedAt + 120_000,
  maxCallDeadline: startedAt + 180_000,
  budgetWarningRatio: 0.8,
  ttlWarningRatio: 0.9,
  budgetHardStop: true,
  ttlHardStop: true,
});

describe('slot table', () => {
  it('claims slots until full and refuses one more', () => {
    const slots = SlotTable.create(2);
    slots.claim(limits());
    slots.claim(limits());
    expect(slots.freeCount).toBe(0);
    expect(() => slots.claim(limits())).toThrow(SlotError);
  });

  it('gives a reused slot a new generation, so an old handle no longer names it', () => {
    const slots = SlotTable.create(1);
    const first = slots.claim(limits());
    expect(slots.release(first)).toBe(true);
    const second = slots.claim(limits());
    expect(second.index).toBe(first.index);
    expect(second.generation).not.toBe(first.generation);
    expect(slots.isLive(first)).toBe(false);
    expect(slots.release(first)).toBe(false);
    expect(slots.isLive(second)).toBe(true);
  });

  it('releases a slot once however often release is called', () => {
    const slots = SlotTable.create(3);
    const handle = slots.claim(limits());
    expect(slots.release(handle)).toBe(true);
    expect(slots.release(handle)).toBe(false);
    expect(slots.freeCount).toBe(3);
  });

  it('starts a claimed slot with its limits, zero counters and no stop', () => {
    const slots = SlotTable.create(1);
    const old = slots.claim(limits());
    slots.add(old.index, F64.inputTokens, 50);
    slots.raiseStop(old.index, stopReasonCode('shutdown'));
    slots.release(old);

    const handle = slots.claim(limits(5_000));
    expect(slots.get(handle.index, F64.inputTokens)).toBe(0);
    expect(slots.get(handle.index, F64.startedAt)).toBe(5_000);
    expect(slots.get(handle.index, F64.lastActivityAt)).toBe(5_000);
    expect(slots.load(handle.index, I32.stopReason)).toBe(0);
  });

  it('keeps the first stop reason raised', () => {
    const slots = SlotTable.create(1);
    const { index } = slots.claim(limits());
    expect(slots.raiseStop(index, stopReasonCode('budget_exceeded'))).toBe(true);
    expect(slots.raiseStop(index, stopReasonCode('shutdown'))).toBe(false);
    expect(stopReasonOf(slots.load(index, I32.stopReason))).toBe('budget_exceeded');
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => SlotTable.create(0)).toThrow(/capacity must be an integer/);
    expect(() => SlotTable.create(1.5)).toThrow(SlotError);
  });

  it('shares counters and the stop flag with a worker thread', async () => {
    const slots = SlotTable.create(4);
    const handle = slots.claim(limits());
    const worker = new Worker(new URL('./fixtures/slot-worker.mjs', import.meta.url), {
      workerData: {
        shared: slots.shared,
        index: handle.index,
        tokensPerTick: 1,
        ticks: 150,
        now: 2_000,
      },
    });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    await worker.terminate();

    expect(slots.load(handle.index, I32.tickSeq)).toBe(150);
    expect(slots.get(handle.index, F64.inputTokens)).toBe(150);
    expect(slots.get(handle.index, F64.packetsIn)).toBe(150);
    // The worker's own check saw the budget of 100 run out and raised a hard stop.
    expect(stopReasonOf(slots.load(handle.index, I32.stopReason))).toBe('budget_exceeded');
  });
});
