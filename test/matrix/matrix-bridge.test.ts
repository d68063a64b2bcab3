import { describe, expect, it } from 'vitest';

import { defaultConfig } from '../../src/config/load.js';
import { startDevServer, type DevServer } from '../../src/devserver/index.js';
import { MatrixError } from '../../src/matrix/matrix-error.js';

import { TestCaller } from '../transport/fixtures/test-caller.js';
import { until } from '../transport/fixtures/wait.js';
import { SineCaller } from '../engine/media-fixtures.js';
import {
  type Account,
  assembleBridge,
  dmWith,
  EventCollector,
  homeserverForFile,
  register,
} from './matrix-fixtures.js';

const hs = homeserverForFile();
const { cleanups } = hs;

/** A whole bridge (no E2EE) on the development hs.server, logged in as its own bot account. */
async function startBridge(
  voice: Partial<ReturnType<typeof defaultConfig>['voice']> = {},
  reuse: { bot?: Account; tokenFile?: string; on?: DevServer } = {},
) {
  const bot =
    reuse.bot ??
    (await register(reuse.on ?? hs.server, `bot${Math.random().toString(36).slice(2, 8)}`));
  const bridge = await assembleBridge({
    bot,
    voice: { require_e2ee: false, ...voice },
    tokenFile: reuse.tokenFile,
  });
  cleanups.push(bridge.stop);
  return bridge;
}

describe('the bridge on a Matrix homeserver', () => {
  it('joins a DM it is invited to, answers a call, and hangs up at the token budget', async () => {
    const { bot, audit } = await startBridge({ default_token_limit: 40 });
    const alice = await register(hs.server, `alice${Math.random().toString(36).slice(2, 8)}`);
    const roomId = await dmWith(alice, bot.userId);
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
    const mallory = await register(hs.server, `mallory${Math.random().toString(36).slice(2, 8)}`);
    const { bot, logged } = await startBridge({ blocked_users: [mallory.userId] });
    const { room_id: roomId } = await mallory.client.raw<{ room_id: string }>(
      'POST',
      '/_matrix/client/v3/createRoom',
      { preset: 'trusted_private_chat', invite: [bot.userId], is_direct: true },
    );
    await until(() => logged.includes('matrix_invite_declined'), 'the decline');
    expect(await mallory.client.joinedMembers(roomId)).not.toContain(bot.userId);
  });

  it('resumes after a restart from where it stopped: no old call again, no new call missed', async () => {
    const first = await startBridge();
    const alice = await register(hs.server, `alice${Math.random().toString(36).slice(2, 8)}`);
    const roomId = await dmWith(alice, first.bot.userId);
    const seen = new EventCollector(alice);
    cleanups.push(() => seen.stop());
    const inviteFor = async (callId: string): Promise<void> => {
      const caller = new TestCaller(`${callId}-phone`, { payloadType: 111 });
      cleanups.push(() => caller.close());
      await alice.client.sendEvent(roomId, 'm.call.invite', {
        call_id: callId,
        party_id: 'ALICEPHONE',
        version: '1',
        lifetime: 60_000,
        offer: { type: 'offer', sdp: await caller.offer },
      });
    };
    const answersTo = (callId: string): number =>
      seen.of('m.call.answer').filter((e) => (e.content as { call_id: string }).call_id === callId)
        .length;

    await inviteFor('before-restart');
    await until(() => answersTo('before-restart') === 1, 'the first answer');
    await first.stop();

    // While the bridge is down, a new call comes in.
    await inviteFor('during-restart');
    const second = await startBridge({}, { bot: first.bot, tokenFile: first.tokenFile });
    await until(() => answersTo('during-restart') === 1, 'the answer to the call made while down');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(answersTo('before-restart')).toBe(1);
    expect(second.host.liveCalls).toBe(1);
  });

  it('waits, when asked to drain, for sends still waiting out a 429', async () => {
    const limited = await startDevServer({ rateLimit: { messagesPerSecond: 2, burst: 1 } });
    cleanups.push(() => limited.close());
    const { bot, matrix } = await startBridge({}, { on: limited });
    const alice = await register(limited, `alice${Math.random().toString(36).slice(2, 8)}`);
    const roomId = await dmWith(alice, bot.userId);

    let sent = 0;
    for (const body of ['one', 'two', 'three']) {
      void matrix.send(roomId, 'm.room.message', { msgtype: 'm.notice', body }).then(() => {
        sent += 1;
      });
    }
    await matrix.drainSends();
    // The burst is one send: the other two waited for the limit, and the drain waited for them.
    expect(sent).toBe(3);
  });

  it('gets its answer, candidates and hangup through a homeserver that keeps answering 429', async () => {
    const limited = await startDevServer({ rateLimit: { messagesPerSecond: 1, burst: 1 } });
    cleanups.push(() => limited.close());
    const botAccount = await register(limited, `bot${Math.random().toString(36).slice(2, 8)}`);
    // Count the 429s the bridge meets, so the test cannot pass without them.
    let rateLimited = 0;
    const request = botAccount.client.http.request.bind(botAccount.client.http);
    botAccount.client.http.request = async <T>(req: Parameters<typeof request>[0]): Promise<T> => {
      try {
        return await request<T>(req);
      } catch (error) {
        if (error instanceof MatrixError && error.code === 'rate_limited') rateLimited += 1;
        throw error;
      }
    };
    const { bot, audit } = await startBridge(
      { default_token_limit: 40 },
      { on: limited, bot: botAccount },
    );
    const alice = await register(limited, `alice${Math.random().toString(36).slice(2, 8)}`);
    const roomId = await dmWith(alice, bot.userId);
    const seen = new EventCollector(alice);
    cleanups.push(() => seen.stop());

    const caller = new TestCaller('alice-limited', { payloadType: 111 });
    cleanups.push(() => caller.close());
    await alice.client.sendEvent(roomId, 'm.call.invite', {
      call_id: 'limited-call',
      party_id: 'ALICEPHONE',
      version: '1',
      lifetime: 60_000,
      offer: { type: 'offer', sdp: await caller.offer },
    });
    await until(() => seen.of('m.call.answer').length > 0, 'the answer');
    caller.acceptAnswer(
      (seen.of('m.call.answer')[0]?.content as { answer: { sdp: string } }).answer.sdp,
    );
    // One batch of the caller's candidates, as a rate-limited client would send them.
    await until(() => caller.gatheringComplete, 'the caller candidates');
    await alice.client.sendEvent(roomId, 'm.call.candidates', {
      call_id: 'limited-call',
      party_id: 'ALICEPHONE',
      version: '1',
      candidates: caller.localCandidates.map((c) => ({ candidate: c.candidate, sdpMid: c.sdpMid })),
    });
    await until(() => seen.of('m.call.candidates').length > 0, 'the bridge candidates');
    for (const event of seen.of('m.call.candidates')) {
      caller.addRemoteCandidates((event.content as { candidates: never[] }).candidates);
    }
    await until(() => caller.trackOpen, 'the media to connect');

    const sine = new SineCaller(111, caller.ssrc);
    for (let i = 0; i < 200 && seen.of('m.call.hangup').length === 0; i++) {
      caller.send(sine.next());
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    sine.close();
    await until(() => seen.of('m.call.hangup').length > 0, 'the hangup');
    expect(seen.of('m.call.hangup')[0]?.content).toMatchObject({
      'org.voicebridge.reason': 'budget_exceeded',
    });
    expect(audit.recent(1)[0]?.end_reason).toBe('budget_exceeded');
    expect(rateLimited).toBeGreaterThan(0);
  });
});
