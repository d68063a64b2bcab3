import { describe, expect, it } from 'vitest';

import { SecurityEnforcer, type Admission } from '../../src/policy/security-enforcer.js';
import { ManualClock, callFrom, recordingLog, voiceWith } from './helpers.js';

function enforcerWith(changes: Parameters<typeof voiceWith>[0] = {}, capacity?: number) {
  const clock = new ManualClock();
  const { log, events } = recordingLog();
  const enforcer = new SecurityEnforcer(voiceWith(changes), { clock: clock.now, log, capacity });
  return { enforcer, clock, events };
}

const reasonOf = (admission: Admission): string =>
  admission.admitted ? 'admitted' : admission.reason;

describe('admission', () => {
  it('admits a call that breaks no rule and registers it', () => {
    const { enforcer, events } = enforcerWith();
    const admission = enforcer.admit(callFrom());
    expect(admission.admitted).toBe(true);
    expect(enforcer.liveCalls).toBe(1);
    expect(events.map((e) => e.event)).toEqual(['voice_call_registered']);
  });

  it.each([
    ['alice', '!room:example.org', 'invalid_user_id'],
    ['@alice:example.org', 'room', 'invalid_room_id'],
    ['@alice:example.org', '#alias:example.org', 'invalid_room_id'],
    ['', '', 'invalid_user_id'],
  ])('refuses user %j in room %j with %s', (userId, roomId, reason) => {
    const { enforcer } = enforcerWith();
    expect(reasonOf(enforcer.admit(callFrom(userId, roomId)))).toBe(reason);
  });

  it('refuses ids that are not strings without throwing', () => {
    const { enforcer } = enforcerWith();
    const call = { ...callFrom(), userId: 42 as unknown as string };
    expect(reasonOf(enforcer.admit(call))).toBe('invalid_user_id');
  });

  it('checks in the documented order: ids, blocks, allows, e2ee, tls, rate, concurrency', () => {
    const everything = {
      blocked_users: ['@mallory:example.org'],
      blocked_rooms: ['!bad:example.org'],
      allowed_users: ['@alice:example.org'],
      allowed_rooms: ['!good:example.org'],
      rate_limit_calls: 1,
      max_concurrent_calls: 1,
    };
    const { enforcer } = enforcerWith(everything);
    const plain = { signalingEncrypted: false, signalingTls: false };
    expect(
      reasonOf(enforcer.admit(callFrom('@mallory:example.org', '!bad:example.org', plain))),
    ).toBe('user_blocked');
    expect(reasonOf(enforcer.admit(callFrom('@bob:example.org', '!bad:example.org', plain)))).toBe(
      'room_blocked',
    );
    expect(
      reasonOf(enforcer.admit(callFrom('@bob:example.org', '!other:example.org', plain))),
    ).toBe('user_not_in_allowlist');
    expect(
      reasonOf(enforcer.admit(callFrom('@alice:example.org', '!other:example.org', plain))),
    ).toBe('room_not_in_allowlist');
    expect(
      reasonOf(enforcer.admit(callFrom('@alice:example.org', '!good:example.org', plain))),
    ).toBe('e2ee_required');
    expect(
      reasonOf(
        enforcer.admit(
          callFrom('@alice:example.org', '!good:example.org', { signalingTls: false }),
        ),
      ),
    ).toBe('signaling_tls_required');
    expect(reasonOf(enforcer.admit(callFrom('@alice:example.org', '!good:example.org')))).toBe(
      'admitted',
    );
    expect(reasonOf(enforcer.admit(callFrom('@alice:example.org', '!good:example.org')))).toBe(
      'rate_limit_exceeded',
    );
  });

  it('lets a block win over an allow', () => {
    const { enforcer } = enforcerWith({
      allowed_users: ['@*:example.org'],
      blocked_users: ['@mallory:example.org'],
    });
    expect(reasonOf(enforcer.admit(callFrom('@mallory:example.org')))).toBe('user_blocked');
    expect(reasonOf(enforcer.admit(callFrom('@alice:example.org')))).toBe('admitted');
  });

  it('matches whole-server patterns, and server names without case', () => {
    const { enforcer } = enforcerWith({
      blocked_users: ['@*:spam.example'],
      blocked_rooms: ['!*:Rooms.Example'],
      allowed_users: ['@alice:example.org'],
    });
    expect(reasonOf(enforcer.admit(callFrom('@anyone:SPAM.example')))).toBe('user_blocked');
    expect(reasonOf(enforcer.admit(callFrom('@alice:example.org', '!x:rooms.example')))).toBe(
      'room_blocked',
    );
    expect(reasonOf(enforcer.admit(callFrom('@alice:Example.ORG')))).toBe('admitted');
    // The local part stays case-sensitive.
    expect(reasonOf(enforcer.admit(callFrom('@Alice:example.org')))).toBe('user_not_in_allowlist');
  });

  it('does not let a pattern for one server match a lookalike server', () => {
    const { enforcer } = enforcerWith({ blocked_users: ['@*:example.org'] });
    expect(reasonOf(enforcer.admit(callFrom('@a:example.org.evil')))).toBe('admitted');
    expect(reasonOf(enforcer.admit(callFrom('@a:example.org:8448')))).toBe('admitted');
    expect(reasonOf(enforcer.admit(callFrom('@a:example.org')))).toBe('user_blocked');
  });

  it('takes room ids of room version 12, which name no server', () => {
    const { enforcer } = enforcerWith({ blocked_rooms: ['!*:example.org'] });
    const roomV12 = `!${'A'.repeat(43)}`;
    expect(reasonOf(enforcer.admit(callFrom('@a:example.org', roomV12)))).toBe('admitted');
  });

  it('allows everyone when the allow lists are empty', () => {
    const { enforcer } = enforcerWith();
    expect(reasonOf(enforcer.admit(callFrom('@anyone:anywhere.example', '!r:x.example')))).toBe(
      'admitted',
    );
  });

  it('accepts plain calls when E2EE and TLS are not required', () => {
    const { enforcer } = enforcerWith({ require_e2ee: false, require_signaling_tls: false });
    const call = callFrom(undefined, undefined, { signalingEncrypted: false, signalingTls: false });
    expect(reasonOf(enforcer.admit(call))).toBe('admitted');
  });

  it('logs a denial as an access-denied event with the reason and ids', () => {
    const { enforcer, events } = enforcerWith({ blocked_users: ['@mallory:example.org'] });
    const call = callFrom('@mallory:example.org');
    enforcer.admit(call);
    expect(events).toEqual([
      {
        event: 'voice_access_denied',
        fields: {
          resource: 'voice_call_start',
          reason: 'user_blocked',
          call_id: call.callId,
          room_id: call.roomId,
          user_id: call.userId,
        },
      },
    ]);
  });
});

describe('concurrency', () => {
  it('refuses a call over max_concurrent_calls and admits again after a release', () => {
    const { enforcer } = enforcerWith({ max_concurrent_calls: 2, rate_limit_calls: 0 });
    const first = enforcer.admit(callFrom('@a:example.org'));
    enforcer.admit(callFrom('@b:example.org'));
    expect(reasonOf(enforcer.admit(callFrom('@c:example.org')))).toBe(
      'max_concurrent_calls_exceeded',
    );
    if (!first.admitted) throw new Error('first call refused');
    expect(enforcer.release(first.reservation)).toBe(true);
    expect(reasonOf(enforcer.admit(callFrom('@c:example.org')))).toBe('admitted');
  });

  it('counts calls, not rooms: two calls in one room are two', () => {
    const { enforcer } = enforcerWith({ max_concurrent_calls: 2 });
    enforcer.admit(callFrom('@a:example.org', '!same:example.org'));
    enforcer.admit(callFrom('@b:example.org', '!same:example.org'));
    expect(enforcer.liveCalls).toBe(2);
    expect(reasonOf(enforcer.admit(callFrom('@c:example.org', '!other:example.org')))).toBe(
      'max_concurrent_calls_exceeded',
    );
  });

  it('applies the per-user and per-room caps', () => {
    const { enforcer } = enforcerWith({ max_calls_per_user: 1, max_calls_per_room: 2 });
    enforcer.admit(callFrom('@a:example.org', '!r:example.org'));
    expect(reasonOf(enforcer.admit(callFrom('@a:example.org', '!s:example.org')))).toBe(
      'max_calls_per_user_exceeded',
    );
    enforcer.admit(callFrom('@b:example.org', '!r:example.org'));
    expect(reasonOf(enforcer.admit(callFrom('@c:example.org', '!r:example.org')))).toBe(
      'max_calls_per_room_exceeded',
    );
  });

  it('never admits more than the slot capacity, whatever the policy says', () => {
    const { enforcer } = enforcerWith({ max_concurrent_calls: 100 }, 1);
    enforcer.admit(callFrom('@a:example.org'));
    expect(reasonOf(enforcer.admit(callFrom('@b:example.org')))).toBe(
      'max_concurrent_calls_exceeded',
    );
  });

  it('releases a reservation once however often it is released', () => {
    const { enforcer, events } = enforcerWith();
    const admission = enforcer.admit(callFrom());
    if (!admission.admitted) throw new Error('refused');
    expect(enforcer.release(admission.reservation)).toBe(true);
    expect(enforcer.release(admission.reservation)).toBe(false);
    expect(enforcer.liveCalls).toBe(0);
    expect(events.filter((e) => e.event === 'voice_call_unregistered')).toHaveLength(1);
  });
});

describe('rate limit', () => {
  it('counts admitted calls only: a call refused for concurrency uses no rate', () => {
    const { enforcer } = enforcerWith({ rate_limit_calls: 2, max_concurrent_calls: 1 });
    const first = enforcer.admit(callFrom('@a:example.org'));
    expect(reasonOf(enforcer.admit(callFrom('@a:example.org')))).toBe(
      'max_concurrent_calls_exceeded',
    );
    if (!first.admitted) throw new Error('refused');
    enforcer.release(first.reservation);
    expect(reasonOf(enforcer.admit(callFrom('@a:example.org')))).toBe('admitted');
  });

  it('is a sliding window: a call leaves the window exactly rate_limit_window after it', () => {
    const { enforcer, clock } = enforcerWith({ rate_limit_calls: 2, rate_limit_window: 60_000 });
    enforcer.admit(callFrom());
    clock.advance(30_000);
    enforcer.admit(callFrom());
    clock.advance(29_999);
    expect(reasonOf(enforcer.admit(callFrom()))).toBe('rate_limit_exceeded');
    clock.advance(1);
    expect(reasonOf(enforcer.admit(callFrom()))).toBe('admitted');
    expect(reasonOf(enforcer.admit(callFrom()))).toBe('rate_limit_exceeded');
  });

  it('is per user', () => {
    const { enforcer } = enforcerWith({ rate_limit_calls: 1 });
    enforcer.admit(callFrom('@a:example.org'));
    expect(reasonOf(enforcer.admit(callFrom('@a:example.org')))).toBe('rate_limit_exceeded');
    expect(reasonOf(enforcer.admit(callFrom('@b:example.org')))).toBe('admitted');
  });

  it('treats ids that differ only in the case of the server as one user', () => {
    const { enforcer } = enforcerWith({ rate_limit_calls: 1 });
    enforcer.admit(callFrom('@a:example.org'));
    expect(reasonOf(enforcer.admit(callFrom('@a:EXAMPLE.org')))).toBe('rate_limit_exceeded');
  });

  it('is off when rate_limit_calls is 0', () => {
    const { enforcer } = enforcerWith({ rate_limit_calls: 0, max_concurrent_calls: 1000 });
    for (let i = 0; i < 500; i++) expect(enforcer.admit(callFrom()).admitted).toBe(true);
    expect(enforcer.rateLimitState.activeUsers).toBe(0);
  });

  it('forgets users whose window has emptied', () => {
    const { enforcer, clock } = enforcerWith({
      rate_limit_window: 1_000,
      max_concurrent_calls: 100,
    });
    for (let i = 0; i < 50; i++) enforcer.admit(callFrom(`@u${i}:example.org`));
    expect(enforcer.rateLimitState.activeUsers).toBe(50);
    clock.advance(1_000);
    expect(enforcer.sweep()).toBe(50);
    expect(enforcer.rateLimitState.activeUsers).toBe(0);
  });
});

describe('policy reload', () => {
  it('gives new calls the new policy and lets live calls keep theirs', () => {
    const { enforcer } = enforcerWith({ default_token_limit: 1_000 });
    const before = enforcer.admit(callFrom('@a:example.org'));
    enforcer.updatePolicy(
      voiceWith({ default_token_limit: 10, blocked_users: ['@a:example.org'] }),
    );
    const after = enforcer.admit(callFrom('@b:example.org'));
    if (!before.admitted || !after.admitted) throw new Error('refused');
    expect(before.reservation.policy.voice.default_token_limit).toBe(1_000);
    expect(after.reservation.policy.voice.default_token_limit).toBe(10);
    expect(before.reservation.policy.version).not.toBe(after.reservation.policy.version);
    expect(reasonOf(enforcer.admit(callFrom('@a:example.org')))).toBe('user_blocked');
  });
});

describe('reservations', () => {
  it('cannot be released through a copy', () => {
    const { enforcer } = enforcerWith();
    const admission = enforcer.admit(callFrom());
    if (!admission.admitted) throw new Error('refused');
    const copy = { ...admission.reservation } as typeof admission.reservation;
    expect(enforcer.release(copy)).toBe(false);
    expect(enforcer.liveCalls).toBe(1);
    expect(enforcer.release(admission.reservation)).toBe(true);
    expect(enforcer.liveCalls).toBe(0);
  });

  it('counts per-user calls made before a reload that turns the cap on', () => {
    const { enforcer } = enforcerWith({ max_calls_per_user: 0 });
    enforcer.admit(callFrom('@a:example.org'));
    enforcer.admit(callFrom('@a:example.org'));
    enforcer.updatePolicy(voiceWith({ max_calls_per_user: 2 }));
    expect(reasonOf(enforcer.admit(callFrom('@a:example.org')))).toBe(
      'max_calls_per_user_exceeded',
    );
  });

  it('checks and records the same ids even when the context changes under it', () => {
    const { enforcer } = enforcerWith({ blocked_users: ['@evil:spam.example'] });
    let reads = 0;
    const call = callFrom();
    Object.defineProperty(call, 'userId', {
      get: () => (reads++ === 0 ? '@good:example.org' : '@evil:spam.example'),
    });
    const admission = enforcer.admit(call);
    expect(admission.admitted).toBe(true);
    if (admission.admitted) expect(admission.reservation.userId).toBe('@good:example.org');
  });
});

describe('group rooms', () => {
  it('refuses a call in a room of more than two members by default, after the lists', () => {
    const { enforcer } = enforcerWith({ blocked_users: ['@m:example.org'] });
    expect(reasonOf(enforcer.admit(callFrom(undefined, undefined, { roomMembers: 3 })))).toBe(
      'group_call_refused',
    );
    expect(
      reasonOf(enforcer.admit(callFrom('@m:example.org', undefined, { roomMembers: 3 }))),
    ).toBe('user_blocked');
    expect(reasonOf(enforcer.admit(callFrom(undefined, undefined, { roomMembers: 2 })))).toBe(
      'admitted',
    );
  });

  it('answers group calls when group_calls is answer', () => {
    const { enforcer } = enforcerWith({ group_calls: 'answer' });
    expect(reasonOf(enforcer.admit(callFrom(undefined, undefined, { roomMembers: 5 })))).toBe(
      'admitted',
    );
  });
});
