import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CallHost } from '../../../src/calls/call-host.js';
import { defaultConfig } from '../../../src/config/load.js';
import { MediaEngine } from '../../../src/engine/media-engine.js';
import { CallSignaling, type RoomCallEvent } from '../../../src/matrix/voip/call-signaling.js';
import { coreWith } from '../../calls/core-fixture.js';
import { assertLoopbackOnly } from '../../transport/fixtures/loopback-only.js';
import { TestCaller } from '../../transport/fixtures/test-caller.js';
import { until } from '../../transport/fixtures/wait.js';

const ROOM = '!dm:example.org';
const CALLER = '@alice:example.org';
const BOT = '@bridge:example.org';

const engines: MediaEngine[] = [];
beforeAll(() => assertLoopbackOnly());
afterAll(async () => {
  await Promise.all(engines.map((engine) => engine.shutdown()));
});

/** A bridge's signaling over a real host, with every event it sends kept in order. */
async function bridge(changes: Parameters<typeof coreWith>[0] = {}) {
  const core = coreWith({ require_e2ee: false, ...changes });
  core.clock.set(Date.now());
  const engine = await MediaEngine.start({
    sessions: core.sessions,
    workers: 1,
    tickMs: 20,
    agent: { kind: 'echo', delayMs: 0, tokensPerSecond: 0 },
  });
  engines.push(engine);
  const host = new CallHost(core, engine, defaultConfig().media);
  const sent: Array<{ roomId: string; type: string; content: Record<string, unknown> }> = [];
  let delivered: ((type: string, content: Record<string, unknown>) => void) | undefined;
  const onDelivered = (hook: typeof delivered): void => {
    delivered = hook;
  };
  const logged: string[] = [];
  const signaling = new CallSignaling({
    host,
    userId: BOT,
    partyId: 'BRIDGEDEVICE',
    send: (roomId, type, content) => {
      sent.push({ roomId, type, content });
      // Delivered at once, as if the homeserver were instant: the caller has the answer before
      // the bridge starts ICE, which a node-datachannel caller needs.
      delivered?.(type, content);
      return Promise.resolve();
    },
    signalingTls: true,
    clock: core.clock.now,
    log: (event) => logged.push(event),
  });
  let eventNumber = 0;
  const deliver = (
    type: string,
    content: Record<string, unknown>,
    extra: Partial<RoomCallEvent> = {},
  ) =>
    signaling.handle({
      roomId: ROOM,
      type,
      sender: CALLER,
      eventId: `$event${++eventNumber}`,
      content,
      age: 100,
      encrypted: false,
      ...extra,
    });
  return { core, host, signaling, sent, logged, deliver, onDelivered };
}

async function offer(): Promise<{ caller: TestCaller; sdp: string }> {
  const caller = new TestCaller(`caller-${Math.random()}`, { payloadType: 111 });
  return { caller, sdp: await caller.offer };
}

const invite = (callId: string, sdp: string, extra: Record<string, unknown> = {}) => ({
  call_id: callId,
  party_id: 'ALICEPHONE',
  version: '1',
  lifetime: 60_000,
  offer: { type: 'offer', sdp },
  ...extra,
});

describe('call signaling', () => {
  it('answers an invite with its party id and connects, using candidates sent before the invite', async () => {
    const { sent, deliver, host, onDelivered } = await bridge();
    const { caller, sdp } = await offer();
    onDelivered((type, content) => {
      if (type === 'm.call.answer') caller.acceptAnswer((content.answer as { sdp: string }).sdp);
      if (type === 'm.call.candidates') caller.addRemoteCandidates(content.candidates as never);
    });
    await until(() => caller.gatheringComplete, 'caller candidates');
    await deliver('m.call.candidates', {
      call_id: 'c1',
      party_id: 'ALICEPHONE',
      version: '1',
      candidates: caller.localCandidates.map((c) => ({ candidate: c.candidate, sdpMid: c.sdpMid })),
    });
    await deliver('m.call.invite', invite('c1', sdp));

    const answer = sent.find((e) => e.type === 'm.call.answer');
    expect(answer?.content).toMatchObject({
      call_id: 'c1',
      party_id: 'BRIDGEDEVICE',
      version: '1',
    });
    await until(() => caller.trackOpen, 'the call to connect');

    await deliver('m.call.hangup', {
      call_id: 'c1',
      party_id: 'ALICEPHONE',
      version: '1',
      reason: 'replaced',
    });
    expect(host.liveCalls).toBe(0);
    caller.close();
  });

  it('records the caller hangup reason, even one outside the spec list', async () => {
    const { deliver, core } = await bridge();
    const { caller, sdp } = await offer();
    await deliver('m.call.invite', invite('c2', sdp));
    await deliver('m.call.hangup', {
      call_id: 'c2',
      party_id: 'ALICEPHONE',
      version: '1',
      reason: 'signalling_timeout',
    });
    expect(core.audit.recent(1)[0]).toMatchObject({
      call_id: 'c2',
      end_reason: 'caller_hangup:signalling_timeout',
    });
    caller.close();
  });

  it('ignores a stale invite', async () => {
    const { deliver, sent, logged } = await bridge();
    const { caller, sdp } = await offer();
    await deliver('m.call.invite', invite('c3', sdp, { lifetime: 10_000 }), { age: 9_000 });
    expect(sent).toEqual([]);
    expect(logged).toContain('call_invite_stale');
    caller.close();
  });

  it('ignores an invite for another invitee, and a duplicate event', async () => {
    const { deliver, sent, host } = await bridge();
    const { caller, sdp } = await offer();
    await deliver('m.call.invite', invite('c4', sdp, { invitee: '@someone:example.org' }));
    expect(sent).toEqual([]);
    await deliver('m.call.invite', invite('c5', sdp), { eventId: '$same' });
    await deliver(
      'm.call.hangup',
      { call_id: 'c5', party_id: 'ALICEPHONE', version: '1' },
      { eventId: '$same' },
    );
    expect(host.liveCalls).toBe(1);
    caller.close();
  });

  it('ignores a hangup from a stranger, or from the caller in another room', async () => {
    const { deliver, host, logged } = await bridge();
    const { caller, sdp } = await offer();
    await deliver('m.call.invite', invite('c6', sdp));
    await deliver(
      'm.call.hangup',
      { call_id: 'c6', version: '1', party_id: 'X' },
      { sender: '@mallory:example.org' },
    );
    await deliver(
      'm.call.hangup',
      { call_id: 'c6', version: '1', party_id: 'ALICEPHONE' },
      { roomId: '!other:example.org' },
    );
    expect(host.liveCalls).toBe(1);
    expect(logged.filter((l) => l === 'call_event_from_stranger')).toHaveLength(2);
    caller.close();
  });

  it('stops without a hangup when the caller selects another answer', async () => {
    const { deliver, host, sent, core } = await bridge();
    const { caller, sdp } = await offer();
    await deliver('m.call.invite', invite('c7', sdp));
    await deliver('m.call.select_answer', {
      call_id: 'c7',
      version: '1',
      party_id: 'ALICEPHONE',
      selected_party_id: 'OTHERDEVICE',
    });
    expect(host.liveCalls).toBe(0);
    expect(sent.some((e) => e.type === 'm.call.hangup')).toBe(false);
    expect(core.audit.recent(1)[0]?.end_reason).toBe('answered_elsewhere');
    caller.close();
  });

  it('ends a renegotiated call with a hangup that says why', async () => {
    const { deliver, sent } = await bridge();
    const { caller, sdp } = await offer();
    await deliver('m.call.invite', invite('c8', sdp));
    await deliver('m.call.negotiate', {
      call_id: 'c8',
      version: '1',
      party_id: 'ALICEPHONE',
      lifetime: 10_000,
      description: { type: 'offer', sdp },
    });
    await until(() => sent.some((e) => e.type === 'm.call.hangup'), 'the hangup');
    expect(sent.find((e) => e.type === 'm.call.hangup')?.content).toMatchObject({
      call_id: 'c8',
      reason: 'unknown_error',
      'org.voicebridge.reason': 'renegotiation_unsupported',
    });
    caller.close();
  });

  it('rejects a refused call, with the reason in its own field, and writes the record', async () => {
    const { deliver, sent, core } = await bridge({ blocked_users: [CALLER] });
    const { caller, sdp } = await offer();
    await deliver('m.call.invite', invite('c9', sdp));
    expect(sent).toEqual([
      {
        roomId: ROOM,
        type: 'm.call.reject',
        content: {
          call_id: 'c9',
          version: '1',
          party_id: 'BRIDGEDEVICE',
          'org.voicebridge.reason': 'user_blocked',
        },
      },
    ]);
    expect(core.audit.recent(1)[0]).toMatchObject({
      call_id: 'c9',
      state: 'denied',
      end_reason: 'user_blocked',
    });
    caller.close();
  });

  it('remembers an ended call for ten minutes, then forgets it, so its memory stops growing', async () => {
    const { deliver, sent, core } = await bridge({ blocked_users: [CALLER] });
    const { caller, sdp } = await offer();
    await deliver('m.call.invite', invite('c-old', sdp));
    expect(sent.map((e) => e.type)).toEqual(['m.call.reject']);

    // A second invite under the ended call's id is ignored while the call is remembered...
    core.clock.advance(9 * 60_000);
    await deliver('m.call.invite', invite('c-old', sdp));
    expect(sent).toHaveLength(1);

    // ...and is a new call once it is forgotten (found by the next invite's housekeeping).
    core.clock.advance(2 * 60_000);
    await deliver('m.call.invite', invite('c-new', sdp));
    await deliver('m.call.invite', invite('c-old', sdp));
    expect(sent.map((e) => e.content.call_id)).toEqual(['c-old', 'c-new', 'c-old']);
    caller.close();
  });

  it('speaks version 0 to a version 0 caller, and hangs up rather than rejects', async () => {
    const { deliver, sent } = await bridge({ blocked_users: [CALLER] });
    const { caller, sdp } = await offer();
    await deliver('m.call.invite', {
      call_id: 'c10',
      version: 0,
      lifetime: 60_000,
      offer: { type: 'offer', sdp },
    });
    expect(sent[0]).toMatchObject({
      type: 'm.call.hangup',
      content: {
        call_id: 'c10',
        version: 0,
        reason: 'user_hangup',
        'org.voicebridge.reason': 'user_blocked',
      },
    });
    expect(sent[0]?.content.party_id).toBeUndefined();
    caller.close();
  });

  it('refuses a plaintext invite when E2EE is required', async () => {
    const { deliver, core } = await bridge({ require_e2ee: true });
    const { caller, sdp } = await offer();
    await deliver('m.call.invite', invite('c11', sdp), { encrypted: false });
    expect(core.audit.recent(1)[0]?.end_reason).toBe('e2ee_required');
    caller.close();
  });

  it('drops malformed call events with a log line and keeps going', async () => {
    const { deliver, logged, sent } = await bridge();
    await deliver('m.call.invite', { call_id: 'c12', version: '1', lifetime: 'soon', offer: 7 });
    await deliver('m.call.hangup', 'not an object' as never);
    expect(sent).toEqual([]);
    expect(logged.filter((l) => l === 'call_event_invalid')).toHaveLength(2);
  });

  it('keeps a caller from passing its hangup off as one of the bridge reasons', async () => {
    const { deliver, core } = await bridge();
    const { caller, sdp } = await offer();
    await deliver('m.call.invite', invite('c13', sdp));
    await deliver('m.call.hangup', {
      call_id: 'c13',
      party_id: 'ALICEPHONE',
      version: '1',
      reason: 'budget_exceeded',
    });
    expect(core.audit.recent(1)[0]?.end_reason).toBe('caller_hangup:budget_exceeded');
    caller.close();
  });
});
