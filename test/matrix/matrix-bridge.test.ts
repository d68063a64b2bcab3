import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AuditStore } from '../../src/audit/audit-store.js';
import { CallHost } from '../../src/calls/call-host.js';
import { createPolicyCore } from '../../src/calls/policy-core.js';
import { systemClock } from '../../src/clock.js';
import { defaultConfig } from '../../src/config/load.js';
import { MediaEngine } from '../../src/engine/media-engine.js';
import { startDevServer, type DevServer } from '../../src/devserver/index.js';
import { MatrixBridge } from '../../src/matrix/matrix-bridge.js';
import { SyncTokenStore } from '../../src/matrix/sync-token-store.js';
import { CallSignaling } from '../../src/matrix/voip/call-signaling.js';
import { SecurityLog } from '../../src/telemetry/security-log.js';
import { assertLoopbackOnly } from '../transport/fixtures/loopback-only.js';
import { TestCaller } from '../transport/fixtures/test-caller.js';
import { until } from '../transport/fixtures/wait.js';
import { SineCaller } from '../engine/media-fixtures.js';
import { EventCollector, register, type Account } from './matrix-fixtures.js';

let server: DevServer;
const cleanups: Array<() => Promise<void> | void> = [];
beforeAll(async () => {
  assertLoopbackOnly();
  server = await startDevServer();
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await server.close();
});

/** A whole bridge (no E2EE) on the development server, logged in as its own bot account. */
async function startBridge(voice: Partial<ReturnType<typeof defaultConfig>['voice']> = {}) {
  const bot = await register(server, `bot${Math.random().toString(36).slice(2, 8)}`);
  const config = defaultConfig();
  const audit = AuditStore.open(':memory:');
  const core = createPolicyCore(
    { ...config.voice, require_e2ee: false, ...voice },
    { clock: systemClock, log: SecurityLog.silent(), audit, callee: bot.userId },
  );
  const engine = await MediaEngine.start({
    sessions: core.sessions,
    workers: 1,
    tickMs: 20,
    agent: { kind: 'echo', delayMs: 0, tokensPerSecond: 50 },
  });
  const host = new CallHost(core, engine, config.media);
  const logged: string[] = [];
  const matrix = new MatrixBridge({
    client: bot.client,
    userId: bot.userId,
    tokens: new SyncTokenStore(join(mkdtempSync(join(tmpdir(), 'vb-sync-')), 'sync-token')),
    policy: () => core.enforcer.policy,
    log: (event) => logged.push(event),
  });
  matrix.signaling = new CallSignaling({
    host,
    userId: bot.userId,
    partyId: bot.deviceId,
    send: (roomId, type, content) => matrix.send(roomId, type, content),
    signalingTls: bot.client.http.tls,
    clock: systemClock,
    log: (event) => logged.push(event),
  });
  matrix.start();
  cleanups.push(async () => {
    await matrix.stop();
    await host.shutdown();
    await engine.shutdown();
  });
  return { bot, core, host, logged, audit };
}

/** `caller` opens a DM with the bot; resolves once the bot has joined. */
async function dmWith(caller: Account, bot: Account): Promise<string> {
  const { room_id: roomId } = await caller.client.raw<{ room_id: string }>(
    'POST',
    '/_matrix/client/v3/createRoom',
    {
      preset: 'trusted_private_chat',
      invite: [bot.userId],
      is_direct: true,
    },
  );
  for (let i = 0; i < 200; i++) {
    if ((await caller.client.joinedMembers(roomId)).includes(bot.userId)) return roomId;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the bot never joined');
}

describe('the bridge on a Matrix homeserver', () => {
  it('joins a DM it is invited to, answers a call, and hangs up at the token budget', async () => {
    const { bot, audit } = await startBridge({ default_token_limit: 40 });
    const alice = await register(server, `alice${Math.random().toString(36).slice(2, 8)}`);
    const roomId = await dmWith(alice, bot);
    const seen = new EventCollector(alice);
    cleanups.push(() => seen.stop());

    const caller = new TestCaller('alice-phone', { payloadType: 111 });
    cleanups.push(() => caller.close());
    const sdp = await caller.offer;
    await alice.client.sendEvent(roomId, 'm.call.invite', {
      call_id: 'call-1',
      party_id: 'ALICEPHONE',
      version: '1',
      lifetime: 60_000,
      offer: { type: 'offer', sdp },
    });

    await until(() => seen.of('m.call.answer').length > 0, 'the answer');
    const answer = seen.of('m.call.answer')[0]?.content as {
      answer: { sdp: string };
      party_id: string;
    };
    expect(answer.party_id).toBe(bot.deviceId);
    caller.acceptAnswer(answer.answer.sdp);
    caller.forwardCandidatesTo((c) => {
      void alice.client.sendEvent(roomId, 'm.call.candidates', {
        call_id: 'call-1',
        party_id: 'ALICEPHONE',
        version: '1',
        candidates: [{ candidate: c.candidate, sdpMid: c.sdpMid }],
      });
    });
    await until(() => seen.of('m.call.candidates').length > 0, 'the bridge candidates');
    for (const event of seen.of('m.call.candidates')) {
      caller.addRemoteCandidates((event.content as { candidates: never[] }).candidates);
    }
    await until(() => caller.trackOpen, 'the media to connect');

    const sine = new SineCaller(111, caller.ssrc);
    for (let i = 0; i < 150 && seen.of('m.call.hangup').length === 0; i++) {
      caller.send(sine.next());
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    sine.close();
    await until(() => seen.of('m.call.hangup').length > 0, 'the hangup');

    expect(seen.of('m.call.hangup')[0]?.content).toMatchObject({
      call_id: 'call-1',
      reason: 'user_hangup',
      'org.voicebridge.reason': 'budget_exceeded',
    });
    expect(caller.received.length).toBeGreaterThan(10);
    expect(audit.recent(1)[0]).toMatchObject({
      call_id: 'call-1',
      end_reason: 'budget_exceeded',
    });
  });

  it('declines an invite from a blocked user', async () => {
    const mallory = await register(server, `mallory${Math.random().toString(36).slice(2, 8)}`);
    const { bot, logged } = await startBridge({ blocked_users: [mallory.userId] });
    const { room_id: roomId } = await mallory.client.raw<{ room_id: string }>(
      'POST',
      '/_matrix/client/v3/createRoom',
      { preset: 'trusted_private_chat', invite: [bot.userId], is_direct: true },
    );
    await until(() => logged.includes('matrix_invite_declined'), 'the decline');
    expect(await mallory.client.joinedMembers(roomId)).not.toContain(bot.userId);
  });
});
