import { describe, expect, it } from 'vitest';

import { LIMIT, checkSlot, limitsReached } from '../../src/engine/limit-check.js';
import { F64, I32, SlotTable, type SlotLimits } from '../../src/engine/slot-table.js';
import { stopReasonOf } from '../../src/engine/stop-reason.js';

const T0 = 1_000_000;

function slotWith(overrides: Partial<SlotLimits> = {}): { slots: SlotTable; index: number } {
  const slots = SlotTable.create(1);
  const { index } = slots.claim({
    startedAt: T0,
    tokenLimit: 100,
    durationDeadline: T0 + 1_000,
    idleTtl: 10_000,
    maxTtlDeadline: T0 + 100_000,
    maxCallDeadline: T0 + 200_000,
    budgetWarningRatio: 0.8,
    ttlWarningRatio: 0.9,
    budgetHardStop: true,
    ttlHardStop: true,
    ...overrides,
  });
  return { slots, index };
}

const stopOf = (slots: SlotTable, index: number): string =>
  stopReasonOf(slots.load(index, I32.stopReason));

describe('token budget', () => {
  it.each([
    [79, 0],
    [80, LIMIT.tokenWarning],
    [99, LIMIT.tokenWarning],
    [100, LIMIT.tokenWarning | LIMIT.tokenExceeded],
    [101, LIMIT.tokenWarning | LIMIT.tokenExceeded],
  ])('with %d of 100 tokens used reaches %d', (used, bits) => {
    const { slots, index } = slotWith();
    slots.set(index, F64.inputTokens, used);
    expect(limitsReached(slots, index, T0) & (LIMIT.tokenWarning | LIMIT.tokenExceeded)).toBe(bits);
  });

  it('counts input and output tokens together', () => {
    const { slots, index } = slotWith();
    slots.set(index, F64.inputTokens, 60);
    slots.set(index, F64.outputTokens, 40);
    checkSlot(slots, index, T0);
    expect(stopOf(slots, index)).toBe('budget_exceeded');
  });

  it('warns and stops together when the warning threshold is 1.0', () => {
    const { slots, index } = slotWith({ budgetWarningRatio: 1 });
    slots.set(index, F64.inputTokens, 99);
    expect(checkSlot(slots, index, T0) & LIMIT.tokenWarning).toBe(0);
    slots.set(index, F64.inputTokens, 100);
    expect(checkSlot(slots, index, T0)).toBe(LIMIT.tokenWarning | LIMIT.tokenExceeded);
  });

  it('raises nothing but records the overrun without hard stop', () => {
    const { slots, index } = slotWith({ budgetHardStop: false });
    slots.set(index, F64.inputTokens, 500);
    checkSlot(slots, index, T0);
    expect(slots.load(index, I32.stopReason)).toBe(0);
    expect(slots.load(index, I32.raised) & LIMIT.tokenExceeded).toBe(LIMIT.tokenExceeded);
  });
});

describe('duration budget', () => {
  it.each([
    [799, 0],
    [800, LIMIT.durationWarning],
    [999, LIMIT.durationWarning],
    [1_000, LIMIT.durationWarning | LIMIT.durationExceeded],
    [1_001, LIMIT.durationWarning | LIMIT.durationExceeded],
  ])('%d ms into a 1000 ms budget reaches %d', (elapsed, bits) => {
    const { slots, index } = slotWith();
    const mask = LIMIT.durationWarning | LIMIT.durationExceeded;
    expect(limitsReached(slots, index, T0 + elapsed) & mask).toBe(bits);
  });

  it('stops the call with duration_exceeded at the deadline', () => {
    const { slots, index } = slotWith();
    checkSlot(slots, index, T0 + 999);
    expect(slots.load(index, I32.stopReason)).toBe(0);
    checkSlot(slots, index, T0 + 1_000);
    expect(stopOf(slots, index)).toBe('duration_exceeded');
  });
});

describe('session TTL', () => {
  it('expires after the idle TTL without activity, and activity restarts it', () => {
    const { slots, index } = slotWith({ durationDeadline: T0 + 1e9 });
    checkSlot(slots, index, T0 + 9_999);
    expect(slots.load(index, I32.stopReason)).toBe(0);
    slots.set(index, F64.lastActivityAt, T0 + 9_999);
    checkSlot(slots, index, T0 + 19_998);
    expect(slots.load(index, I32.stopReason)).toBe(0);
    checkSlot(slots, index, T0 + 19_999);
    expect(stopOf(slots, index)).toBe('ttl_expired');
  });

  it('warns at 90 % of the idle TTL', () => {
    const { slots, index } = slotWith({ durationDeadline: T0 + 1e9 });
    expect(limitsReached(slots, index, T0 + 8_999) & LIMIT.idleWarning).toBe(0);
    expect(limitsReached(slots, index, T0 + 9_000) & LIMIT.idleWarning).toBe(LIMIT.idleWarning);
  });

  it('ends the session at max TTL however active it is', () => {
    const { slots, index } = slotWith({ durationDeadline: T0 + 1e9 });
    slots.set(index, F64.lastActivityAt, T0 + 99_999);
    checkSlot(slots, index, T0 + 99_999);
    expect(slots.load(index, I32.stopReason)).toBe(0);
    checkSlot(slots, index, T0 + 100_000);
    expect(stopOf(slots, index)).toBe('max_ttl_exceeded');
  });

  it('keeps a soft-TTL session alive past expiry', () => {
    const { slots, index } = slotWith({ durationDeadline: T0 + 1e9, ttlHardStop: false });
    checkSlot(slots, index, T0 + 50_000);
    expect(slots.load(index, I32.stopReason)).toBe(0);
    expect(slots.load(index, I32.raised) & LIMIT.idleExpired).toBe(LIMIT.idleExpired);
  });
});

describe('max call duration', () => {
  it('stops even a soft-limit call at the ceiling', () => {
    const { slots, index } = slotWith({
      durationDeadline: T0 + 1e9,
      budgetHardStop: false,
      ttlHardStop: false,
    });
    slots.set(index, F64.lastActivityAt, T0 + 199_999);
    checkSlot(slots, index, T0 + 199_999);
    expect(slots.load(index, I32.stopReason)).toBe(0);
    checkSlot(slots, index, T0 + 200_000);
    expect(stopOf(slots, index)).toBe('max_call_duration_exceeded');
  });
});

describe('checkSlot', () => {
  it('raises each limit only once', () => {
    const { slots, index } = slotWith();
    slots.set(index, F64.inputTokens, 85);
    expect(checkSlot(slots, index, T0)).toBe(LIMIT.tokenWarning);
    expect(checkSlot(slots, index, T0)).toBe(0);
    slots.set(index, F64.inputTokens, 90);
    expect(checkSlot(slots, index, T0)).toBe(0);
  });
});
