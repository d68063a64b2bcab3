import type { Clock } from '../clock.js';
import type { CallSession } from '../engine/call-session.js';
import type { CallSessions } from '../engine/call-sessions.js';
import { F64, type SlotLimits } from '../engine/slot-table.js';
import type { Reservation } from '../policy/security-enforcer.js';

/** Per-call limits asked for by the caller of startSession; they may only lower the policy's. */
export interface BudgetOverrides {
  tokenLimit?: number;
  /** Milliseconds. */
  durationLimit?: number;
}

/** A call's usage against its budget. Durations in milliseconds. */
export interface BudgetUsage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  token_limit: number;
  tokens_remaining: number;
  model: string;
  elapsed: number;
  duration_limit: number;
  duration_remaining: number;
}

/** Raised for a bad argument; `code` is stable. */
export class BudgetError extends Error {
  constructor(
    readonly code: 'invalid_usage' | 'invalid_override' | 'session_closed',
    message: string,
  ) {
    super(message);
    this.name = 'BudgetError';
  }
}

/**
 * The budget tracker: gives each admitted call its token and duration budget (and the TTLs
 * and ceiling that share its slot), records the tokens the agent reports, and answers what
 * is used and what is left. Enforcement happens in the limit checks on the slot.
 */
export class BudgetTracker {
  readonly #sessions: CallSessions;
  readonly #clock: Clock;

  constructor(sessions: CallSessions, clock: Clock) {
    this.#sessions = sessions;
    this.#clock = clock;
  }

  /**
   * Starts tracking an admitted call. Limits come from the policy the call was admitted
   * under; overrides may lower them and are clamped to them. `max_call_duration` caps every
   * deadline, whatever the budget and TTL settings.
   */
  startSession(reservation: Reservation, overrides: BudgetOverrides = {}): CallSession {
    const voice = reservation.policy.voice;
    const tokenLimit = lowered('tokenLimit', overrides.tokenLimit, voice.default_token_limit);
    const durationLimit = lowered(
      'durationLimit',
      overrides.durationLimit,
      voice.default_duration_limit,
    );
    const start = this.#clock();
    const ceiling = start + voice.max_call_duration;
    const limits: SlotLimits = {
      startedAt: start,
      tokenLimit,
      durationDeadline: Math.min(start + durationLimit, ceiling),
      idleTtl: voice.ttl.default_ttl,
      maxTtlDeadline: Math.min(start + voice.ttl.max_ttl, ceiling),
      maxCallDeadline: ceiling,
      budgetWarningRatio: voice.warning_threshold,
      ttlWarningRatio: voice.ttl.warning_threshold,
      budgetHardStop: voice.hard_stop,
      ttlHardStop: voice.ttl.hard_stop,
    };
    return this.#sessions.open(reservation, limits);
  }

  /**
   * Adds tokens the agent used and checks the budget at once, so a hard stop is raised by the
   * usage that reaches the limit. Counts must be non-negative integers.
   */
  recordTokenUsage(
    session: CallSession,
    inputTokens: number,
    outputTokens: number,
    model = '',
  ): void {
    if (!this.#sessions.isOpen(session)) {
      throw new BudgetError('session_closed', `call ${session.callId} has ended`);
    }
    checkCount('input_tokens', inputTokens);
    checkCount('output_tokens', outputTokens);
    if (typeof model !== 'string' || model.length > 200) {
      throw new BudgetError('invalid_usage', `model must be a string of at most 200 characters`);
    }

    const index = session.handle.index;
    this.#sessions.slots.add(index, F64.inputTokens, inputTokens);
    this.#sessions.slots.add(index, F64.outputTokens, outputTokens);
    if (model !== '') session.model = model;
    this.#sessions.check(session);
  }

  /** Checks the duration budget (and every other limit of the call) now. */
  checkDuration(session: CallSession): void {
    this.#sessions.check(session);
  }

  /** Usage and what is left of the budget, while the call is live. */
  getUsage(session: CallSession): BudgetUsage {
    // A closed session's slot may already hold the next call.
    if (!this.#sessions.isOpen(session)) {
      throw new BudgetError('session_closed', `call ${session.callId} has ended`);
    }
    const slots = this.#sessions.slots;
    const index = session.handle.index;
    const input = slots.get(index, F64.inputTokens);
    const output = slots.get(index, F64.outputTokens);
    const limit = slots.get(index, F64.tokenLimit);
    const startedAt = slots.get(index, F64.startedAt);
    const durationLimit = slots.get(index, F64.durationDeadline) - startedAt;
    const elapsed = this.#clock() - startedAt;
    return {
      input_tokens: input,
      output_tokens: output,
      total_tokens: input + output,
      token_limit: limit,
      tokens_remaining: Math.max(0, limit - input - output),
      model: session.model,
      elapsed,
      duration_limit: durationLimit,
      duration_remaining: Math.max(0, durationLimit - elapsed),
    };
  }

  /** Stops tracking: reports what is left to report and frees the slot. Idempotent. */
  endSession(session: CallSession): BudgetUsage {
    const usage = this.getUsage(session);
    this.#sessions.close(session);
    return usage;
  }
}

/** Throws BudgetError when an override is not a positive number. */
export function checkOverrides(overrides: BudgetOverrides): void {
  lowered('tokenLimit', overrides.tokenLimit, Number.POSITIVE_INFINITY);
  lowered('durationLimit', overrides.durationLimit, Number.POSITIVE_INFINITY);
}

function lowered(
  name: keyof BudgetOverrides,
  asked: number | undefined,
  configured: number,
): number {
  if (asked === undefined) return configured;
  if (typeof asked !== 'number' || !Number.isFinite(asked) || asked <= 0) {
    throw new BudgetError(
      'invalid_override',
      `${name} must be a positive number, got ${String(asked)}`,
    );
  }
  return Math.min(asked, configured);
}

function checkCount(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new BudgetError(
      'invalid_usage',
      `${name} must be a non-negative integer, got ${String(value)}`,
    );
  }
}
