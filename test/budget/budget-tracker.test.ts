import { describe, expect, it } from 'vitest';

import { BudgetError } from '../../src/budget/budget-tracker.js';
import { coreWith } from '../calls/core-fixture.js';
import { callFrom } from '../policy/helpers.js';

function startedCall(changes: Parameters<typeof coreWith>[0] = {}, overrides = {}) {
  const core = coreWith(changes);
  const result = core.gate.start(callFrom(), overrides);
  if (!result.admitted) throw new Error(`refused: ${result.reason}`);
  const stops: string[] = [];
  core.sessions.onStop((_, reason) => stops.push(reason));
  return { ...core, session: result.session, stops };
}

describe('budget tracker', () => {
  it('gives a call the configured limits', () => {
    const { budget, session } = startedCall({
      default_token_limit: 500,
      default_duration_limit: 60_000,
    });
    expect(budget.getUsage(session)).toMatchObject({
      token_limit: 500,
      tokens_remaining: 500,
      duration_limit: 60_000,
      duration_remaining: 60_000,
      elapsed: 0,
    });
  });

  it('lets an override lower the limits but never raise them', () => {
    const lower = startedCall(
      { default_token_limit: 500 },
      { tokenLimit: 100, durationLimit: 1_000 },
    );
    expect(lower.budget.getUsage(lower.session)).toMatchObject({
      token_limit: 100,
      duration_limit: 1_000,
    });
    const higher = startedCall(
      { default_token_limit: 500, default_duration_limit: 60_000 },
      { tokenLimit: 10_000, durationLimit: 10 * 60_000 },
    );
    expect(higher.budget.getUsage(higher.session)).toMatchObject({
      token_limit: 500,
      duration_limit: 60_000,
    });
  });

  it('refuses an override that is not a positive number and leaks nothing', () => {
    const core = coreWith();
    expect(() => core.gate.start(callFrom(), { tokenLimit: -5 })).toThrow(
      /tokenLimit must be a positive number, got -5/,
    );
    expect(core.enforcer.liveCalls).toBe(0);
    expect(core.slots.freeCount).toBe(core.slots.capacity);
  });

  it('caps the duration budget at max_call_duration', () => {
    const { budget, session } = startedCall({
      max_call_duration: 5_000,
      default_duration_limit: 60_000,
    });
    expect(budget.getUsage(session).duration_limit).toBe(5_000);
  });

  it('records input and output tokens and the model', () => {
    const { budget, session } = startedCall();
    budget.recordTokenUsage(session, 120, 30, 'model-a');
    budget.recordTokenUsage(session, 10, 5, '');
    expect(budget.getUsage(session)).toMatchObject({
      input_tokens: 130,
      output_tokens: 35,
      total_tokens: 165,
      tokens_remaining: 100_000 - 165,
      model: 'model-a',
    });
  });

  it.each([
    [-1, 0],
    [1.5, 0],
    [Number.NaN, 0],
    [0, Number.POSITIVE_INFINITY],
  ])('refuses usage %d/%d with invalid_usage', (input, output) => {
    const { budget, session } = startedCall();
    expect(() => budget.recordTokenUsage(session, input, output)).toThrow(BudgetError);
    expect(budget.getUsage(session).total_tokens).toBe(0);
  });

  it('warns once at the threshold and stops the call at the limit with a hard stop', () => {
    const { budget, session, events, stops } = startedCall({ default_token_limit: 100 });
    budget.recordTokenUsage(session, 79, 0);
    expect(events.filter((e) => e.event === 'voice_budget_warning')).toHaveLength(0);
    budget.recordTokenUsage(session, 1, 0);
    budget.recordTokenUsage(session, 5, 0);
    const warnings = events.filter((e) => e.event === 'voice_budget_warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.fields).toMatchObject({ limit: 'tokens', usage_percent: 80 });
    expect(stops).toEqual([]);

    budget.recordTokenUsage(session, 15, 0);
    expect(stops).toEqual(['budget_exceeded']);
    expect(events.filter((e) => e.event === 'voice_budget_enforced')).toHaveLength(1);
    expect(session.stopReason).toBe('budget_exceeded');
  });

  it('logs a soft overrun once as a violation and lets the call go on', () => {
    const { budget, session, events, stops, gate } = startedCall({
      default_token_limit: 100,
      hard_stop: false,
    });
    budget.recordTokenUsage(session, 150, 0);
    budget.recordTokenUsage(session, 150, 0);
    expect(stops).toEqual([]);
    const violations = events.filter((e) => e.event === 'voice_limit_violation');
    expect(violations).toHaveLength(1);
    expect(violations[0]?.fields.violation).toBe('budget_exceeded');

    const ended = gate.end(session, { reason: 'caller_hangup' });
    expect(ended?.record.violations).toEqual(['budget_exceeded']);
    expect(ended?.record.token_usage.input_tokens).toBe(300);
  });

  it('ends the call at the duration budget on the scan', () => {
    const { session, sessions, clock, stops, events } = startedCall({
      default_duration_limit: 60_000,
    });
    clock.advance(47_999);
    sessions.scan();
    expect(events.filter((e) => e.event === 'voice_budget_warning')).toHaveLength(0);
    clock.advance(1);
    sessions.scan();
    expect(events.filter((e) => e.event === 'voice_budget_warning')[0]?.fields.limit).toBe(
      'duration',
    );
    clock.advance(11_999);
    sessions.scan();
    expect(stops).toEqual([]);
    clock.advance(1);
    sessions.scan();
    expect(stops).toEqual(['duration_exceeded']);
    expect(session.events.map((e) => e.event)).toContain('voice_duration_enforced');
  });

  it('refuses usage for an ended call', () => {
    const { budget, session, gate } = startedCall();
    gate.end(session, { reason: 'caller_hangup' });
    expect(() => budget.recordTokenUsage(session, 1, 1)).toThrow(/has ended/);
  });
});
