import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { CallSession } from '../../src/engine/call-session.js';
import { callFrom } from '../policy/helpers.js';
import { coreWith } from './core-fixture.js';

describe('call gate', () => {
  it('commits a denial to the audit store with its reason and policy version', () => {
    const core = coreWith({ blocked_users: ['@mallory:example.org'] });
    const result = core.gate.start(callFrom('@mallory:example.org'));
    expect(result.admitted).toBe(false);
    const [stored] = core.audit.recent(10);
    expect(stored).toMatchObject({
      state: 'denied',
      end_reason: 'user_blocked',
      caller: '@mallory:example.org',
      callee: '@bridge:example.org',
      policy_version: core.enforcer.policy.version,
    });
  });

  it('commits an ended call with usage, events and duration before reporting the end', () => {
    const core = coreWith({ default_token_limit: 100 });
    const result = core.gate.start(callFrom());
    if (!result.admitted) throw new Error(result.reason);
    core.budget.recordTokenUsage(result.session, 70, 15, 'model-x');
    core.clock.advance(12_345);
    const ended = core.gate.end(result.session, { reason: 'caller_hangup' });
    expect(ended?.committed).toBe(true);
    const [stored] = core.audit.recent(1);
    expect(stored).toMatchObject({
      call_id: result.session.callId,
      state: 'ended',
      end_reason: 'caller_hangup',
      duration: 12_345,
      token_usage: { input_tokens: 70, output_tokens: 15, model: 'model-x' },
      violations: [],
    });
    expect(stored?.events.map((e) => e.event)).toEqual(['voice_budget_warning']);
  });

  it('ends a call once: a second end writes nothing and releases nothing', () => {
    const core = coreWith();
    const result = core.gate.start(callFrom());
    if (!result.admitted) throw new Error(result.reason);
    expect(core.gate.end(result.session, { reason: 'caller_hangup' })).toBeDefined();
    expect(core.gate.end(result.session, { reason: 'shutdown' })).toBeUndefined();
    expect(core.audit.count()).toBe(1);
    expect(core.enforcer.liveCalls).toBe(0);
    expect(core.slots.freeCount).toBe(core.slots.capacity);
  });

  it('frees the call and keeps its record when the audit store refuses it, then commits it later', () => {
    const core = coreWith();
    const result = core.gate.start(callFrom());
    if (!result.admitted) throw new Error(result.reason);
    const failures: unknown[] = [];
    core.gate.onAuditFailure((_, error) => failures.push(error));
    const broken = {
      append: () => {
        throw new Error('disk full');
      },
    };
    const realAppend = core.audit.append.bind(core.audit);
    core.audit.append = broken.append;
    const ended = core.gate.end(result.session, { reason: 'caller_hangup' });
    expect(ended?.committed).toBe(false);
    expect(failures).toHaveLength(1);
    expect(core.enforcer.liveCalls).toBe(0);
    expect(core.gate.pendingAuditRecords).toBe(1);

    core.audit.append = realAppend;
    expect(core.gate.flush()).toBe(0);
    expect(core.audit.recent(1)[0]?.call_id).toBe(result.session.callId);
  });
});

type Step =
  | { kind: 'start'; user: number; room: number; encrypted: boolean }
  | { kind: 'end'; pick: number }
  | { kind: 'endTwice'; pick: number }
  | { kind: 'badStart'; user: number }
  | { kind: 'usage'; pick: number; tokens: number }
  | { kind: 'time'; ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('start' as const),
    user: fc.nat(6),
    room: fc.nat(3),
    encrypted: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('end' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('endTwice' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('badStart' as const), user: fc.nat(6) }),
  fc.record({ kind: fc.constant('usage' as const), pick: fc.nat(), tokens: fc.nat(400) }),
  fc.record({ kind: fc.constant('time' as const), ms: fc.nat(40_000) }),
);

describe('reservations under random sequences', () => {
  it('always equal live calls, never exceed a limit, and every call leaves one record', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 120 }), (steps) => {
        const limits = {
          max_concurrent_calls: 4,
          max_calls_per_user: 2,
          rate_limit_calls: 3,
          rate_limit_window: 60_000,
          default_token_limit: 1_000,
          blocked_users: ['@u0:example.org'],
        };
        const core = coreWith(limits);
        const live: CallSession[] = [];
        const admittedAt = new Map<string, number[]>();
        let calls = 0;
        core.sessions.onStop((session) => {
          core.gate.end(session, { reason: session.stopReason ?? 'unknown' });
          live.splice(live.indexOf(session), 1);
        });

        for (const s of steps) {
          switch (s.kind) {
            case 'start': {
              calls += 1;
              const user = `@u${s.user}:example.org`;
              const result = core.gate.start(
                callFrom(user, `!r${s.room}:example.org`, { signalingEncrypted: s.encrypted }),
              );
              if (result.admitted) {
                live.push(result.session);
                admittedAt.set(user, [...(admittedAt.get(user) ?? []), core.clock.now()]);
              }
              break;
            }
            case 'badStart': {
              // Bad overrides are refused before admission: no reservation, no rate, no record.
              expect(() =>
                core.gate.start(callFrom(`@u${s.user}:example.org`), { tokenLimit: -1 }),
              ).toThrow();
              break;
            }
            case 'end':
            case 'endTwice': {
              const session = live[s.pick % Math.max(1, live.length)];
              if (session === undefined) break;
              live.splice(live.indexOf(session), 1);
              core.gate.end(session, { reason: 'caller_hangup' });
              if (s.kind === 'endTwice') {
                expect(core.gate.end(session, { reason: 'caller_hangup' })).toBeUndefined();
              }
              break;
            }
            case 'usage': {
              const session = live[s.pick % Math.max(1, live.length)];
              if (session !== undefined) core.budget.recordTokenUsage(session, s.tokens, 0);
              break;
            }
            case 'time':
              core.clock.advance(s.ms);
              core.ttl.enforceTtl();
              break;
          }

          expect(core.enforcer.liveCalls).toBe(live.length);
          expect(core.gate.liveCalls).toBe(live.length);
          expect(core.sessions.size).toBe(live.length);
          expect(core.slots.capacity - core.slots.freeCount).toBe(live.length);
          expect(live.length).toBeLessThanOrEqual(limits.max_concurrent_calls);
          const perUser = new Map<string, number>();
          for (const session of live) {
            const user = session.reservation.userId;
            perUser.set(user, (perUser.get(user) ?? 0) + 1);
          }
          for (const count of perUser.values()) expect(count).toBeLessThanOrEqual(2);
        }

        for (const times of admittedAt.values()) {
          times.forEach((t, i) => {
            const inWindow = times.filter((u) => u <= t && t - u < 60_000).length;
            expect(inWindow, `admission ${i}`).toBeLessThanOrEqual(limits.rate_limit_calls);
          });
        }
        for (const session of [...live]) core.gate.end(session, { reason: 'shutdown' });
        expect(core.enforcer.liveCalls).toBe(0);
        expect(core.slots.freeCount).toBe(core.slots.capacity);
        expect(core.audit.count()).toBe(calls);
        expect(core.audit.verify().ok).toBe(true);
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('call gate records stay valid whatever comes in', () => {
  it('commits a denial for an empty or malformed caller, and the records after it', () => {
    const core = coreWith();
    core.gate.start(callFrom('', '!room:example.org'));
    core.gate.start(callFrom('@bad\ud800:example.org'));
    const ok = core.gate.start(callFrom());
    if (!ok.admitted) throw new Error(ok.reason);
    core.gate.end(ok.session, { reason: '' });

    expect(core.gate.pendingAuditRecords).toBe(0);
    const records = core.audit.recent(10).reverse();
    expect(records.map((r) => r.end_reason)).toEqual([
      'invalid_user_id',
      'invalid_user_id',
      'unknown',
    ]);
    expect(records[0]?.caller).toBe('(none)');
    expect(records[1]?.caller).toBe('@bad\ufffd:example.org');
    expect(core.audit.verify().ok).toBe(true);
  });

  it('writes a record that does not end before it began when the clock steps back', () => {
    const core = coreWith();
    const result = core.gate.start(callFrom());
    if (!result.admitted) throw new Error(result.reason);
    core.clock.advance(-5_000);
    const ended = core.gate.end(result.session, { reason: 'caller_hangup' });
    expect(ended?.committed).toBe(true);
    expect(ended?.record.duration).toBe(0);
  });

  it('caps token counts at what an audit record can hold', () => {
    const core = coreWith({ hard_stop: false });
    const result = core.gate.start(callFrom());
    if (!result.admitted) throw new Error(result.reason);
    core.budget.recordTokenUsage(result.session, Number.MAX_SAFE_INTEGER, 0);
    core.budget.recordTokenUsage(result.session, Number.MAX_SAFE_INTEGER, 0);
    const ended = core.gate.end(result.session, { reason: 'caller_hangup' });
    expect(ended?.committed).toBe(true);
    expect(ended?.record.token_usage.input_tokens).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('refuses a call id no record could carry, before admission', () => {
    const core = coreWith();
    expect(() => core.gate.start(callFrom(undefined, undefined, { callId: '' }))).toThrow(
      TypeError,
    );
    expect(() => core.gate.start(callFrom(undefined, undefined, { callId: 'a\nb' }))).toThrow(
      /callId must be/,
    );
    expect(core.enforcer.liveCalls).toBe(0);
    expect(core.enforcer.rateLimitState.activeUsers).toBe(0);
  });

  it('sets aside a record the store refuses as invalid, so later records still commit', () => {
    const core = coreWith();
    const failures: unknown[] = [];
    core.gate.onAuditFailure((_, error) => {
      failures.push(error);
      throw new Error('a listener that throws changes nothing');
    });
    const realAppend = core.audit.append.bind(core.audit);
    let first = true;
    core.audit.append = (record) => {
      if (first) {
        first = false;
        return realAppend({ ...record, state: 'bogus' as never });
      }
      return realAppend(record);
    };
    core.gate.start(callFrom('', '!room:example.org'));
    core.gate.start(callFrom('@x:example.org', '#not-a-room'));
    expect(failures).toHaveLength(1);
    expect(core.gate.rejectedAuditRecords).toHaveLength(1);
    expect(core.audit.count()).toBe(1);
    expect(core.gate.pendingAuditRecords).toBe(0);
  });
});

describe('a security log that cannot be written', () => {
  it('takes no reservation with it: admission and release go on', async () => {
    const { SecurityLog } = await import('../../src/telemetry/security-log.js');
    const { createPolicyCore } = await import('../../src/calls/policy-core.js');
    const { AuditStore } = await import('../../src/audit/audit-store.js');
    const { pino } = await import('pino');
    const { voiceWith, ManualClock } = await import('../policy/helpers.js');
    const broken = {
      write: () => {
        throw new Error('ENOSPC');
      },
    };
    const log = new SecurityLog(pino({ level: 'info' }, broken));
    const clock = new ManualClock();
    const audit = AuditStore.open(':memory:');
    const core = createPolicyCore(voiceWith({ max_concurrent_calls: 1 }), {
      clock: clock.now,
      log,
      audit,
      callee: '@bridge:example.org',
    });
    for (let i = 0; i < 3; i++) {
      const result = core.gate.start(callFrom(`@u${i}:example.org`));
      if (!result.admitted) throw new Error(result.reason);
      core.gate.end(result.session, { reason: 'caller_hangup' });
    }
    expect(core.enforcer.liveCalls).toBe(0);
    expect(audit.count()).toBe(3);
    expect(log.failedWrites).toBeGreaterThan(0);
  });
});

describe('call ids', () => {
  it('refuses a second live call under the same call id, with a record, and takes it again later', () => {
    const core = coreWith();
    const first = core.gate.start(callFrom('@a:example.org', '!r:example.org', { callId: 'same' }));
    const second = core.gate.start(
      callFrom('@b:example.org', '!s:example.org', { callId: 'same' }),
    );
    expect(first.admitted).toBe(true);
    expect(second).toMatchObject({ admitted: false, reason: 'duplicate_call_id' });
    expect(core.enforcer.liveCalls).toBe(1);
    expect(core.audit.recent(1)[0]).toMatchObject({
      call_id: 'same',
      end_reason: 'duplicate_call_id',
    });

    if (!first.admitted) return;
    core.gate.end(first.session, { reason: 'caller_hangup' });
    expect(
      core.gate.start(callFrom('@b:example.org', '!s:example.org', { callId: 'same' })).admitted,
    ).toBe(true);
  });
});
