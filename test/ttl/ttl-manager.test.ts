import { describe, expect, it } from 'vitest';

import { coreWith } from '../calls/core-fixture.js';
import { callFrom } from '../policy/helpers.js';

const ttlOf = (defaultTtl: number, maxTtl: number, hardStop = true) => ({
  default_ttl: defaultTtl,
  max_ttl: maxTtl,
  enforcement_interval: 1_000,
  warning_threshold: 0.9,
  hard_stop: hardStop,
});

function live(changes: Parameters<typeof coreWith>[0]) {
  const core = coreWith({
    default_duration_limit: 10 * 3_600_000,
    max_call_duration: 10 * 3_600_000,
    ...changes,
  });
  const stops: string[] = [];
  core.sessions.onStop((_, reason) => stops.push(reason));
  const start = () => {
    const result = core.gate.start(callFrom(`@u${Math.random()}:example.org`.replace('0.', '')));
    if (!result.admitted) throw new Error(result.reason);
    return result.session;
  };
  return { ...core, stops, start };
}

describe('TTL manager', () => {
  it('expires a session after default_ttl without activity', () => {
    const { ttl, clock, stops, start, events } = live({ ttl: ttlOf(10_000, 3_600_000) });
    start();
    clock.advance(9_999);
    ttl.enforceTtl();
    expect(stops).toEqual([]);
    clock.advance(1);
    ttl.enforceTtl();
    expect(stops).toEqual(['ttl_expired']);
    expect(events.filter((e) => e.event === 'voice_session_ttl_enforced')[0]?.fields.ttl).toBe(
      'idle',
    );
  });

  it('restarts the idle lifetime on activity', () => {
    const { ttl, clock, stops, start } = live({ ttl: ttlOf(10_000, 3_600_000) });
    const session = start();
    for (let i = 0; i < 10; i++) {
      clock.advance(9_000);
      ttl.touch(session);
      ttl.enforceTtl();
    }
    expect(stops).toEqual([]);
    expect(ttl.remaining(session)).toBe(10_000);
  });

  it('ends an active session at max_ttl', () => {
    const { ttl, clock, stops, start } = live({ ttl: ttlOf(10_000, 30_000) });
    const session = start();
    for (let elapsed = 5_000; elapsed < 30_000; elapsed += 5_000) {
      clock.advance(5_000);
      ttl.touch(session);
      ttl.enforceTtl();
    }
    clock.advance(4_999);
    ttl.touch(session);
    ttl.enforceTtl();
    expect(stops).toEqual([]);
    clock.advance(1);
    ttl.enforceTtl();
    expect(stops).toEqual(['max_ttl_exceeded']);
  });

  it('warns once at 90 % of the TTL', () => {
    const { ttl, clock, start, events } = live({ ttl: ttlOf(10_000, 3_600_000) });
    start();
    clock.advance(8_999);
    ttl.enforceTtl();
    clock.advance(1);
    ttl.enforceTtl();
    clock.advance(500);
    ttl.enforceTtl();
    const warnings = events.filter((e) => e.event === 'voice_session_ttl_warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.fields).toMatchObject({ ttl: 'idle', remaining_ms: 1_000 });
  });

  it('reports an expiry without ending the call when hard_stop is off', () => {
    const { ttl, clock, stops, start, gate, events } = live({
      ttl: ttlOf(10_000, 3_600_000, false),
    });
    const session = start();
    clock.advance(20_000);
    ttl.enforceTtl();
    ttl.enforceTtl();
    expect(stops).toEqual([]);
    expect(events.filter((e) => e.event === 'voice_limit_violation')).toHaveLength(1);
    expect(gate.end(session, { reason: 'caller_hangup' })?.record.violations).toEqual([
      'ttl_expired',
    ]);
  });

  it('still stops a soft-TTL call at max_call_duration', () => {
    const { ttl, clock, stops, start } = live({
      ttl: ttlOf(10_000, 3_600_000, false),
      hard_stop: false,
      max_call_duration: 60_000,
    });
    start();
    clock.advance(60_000);
    ttl.enforceTtl();
    expect(stops).toEqual(['max_call_duration_exceeded']);
  });

  it('counts sessions, those expiring soon, and the average remaining', () => {
    const { ttl, clock, start } = live({ ttl: ttlOf(10_000, 3_600_000) });
    expect(ttl.stats()).toEqual({ total_sessions: 0, expiring_soon: 0, average_remaining: 0 });
    start();
    clock.advance(9_500);
    const fresh = start();
    ttl.touch(fresh);
    expect(ttl.stats()).toEqual({
      total_sessions: 2,
      expiring_soon: 1,
      average_remaining: (500 + 10_000) / 2,
    });
  });
});
