import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { BridgeCrypto, type CryptoRequestSender } from '../../src/matrix/crypto/index.js';
import type { MatrixClient } from '../../src/matrix/matrix-client.js';
import type { RawEvent } from '../../src/matrix/sync-response.js';

import { SineCaller } from '../engine/media-fixtures.js';
import { TestCaller } from '../transport/fixtures/test-caller.js';
import { until } from '../transport/fixtures/wait.js';
import {
  type Account,
  assembleBridge,
  dmWith,
  homeserverForFile,
  register,
} from './matrix-fixtures.js';

const hs = homeserverForFile();
const { cleanups } = hs;

const scratch = (): string => mkdtempSync(join(tmpdir(), 'vb-e2ee-'));

/** Sends the crypto layer's requests over an account's own client. */
function senderFor(client: MatrixClient): CryptoRequestSender {
  return async (request) =>
    JSON.stringify(
      await client.http.request({
        method: request.method,
        path: request.path,
        body: JSON.parse(request.body) as unknown,
      }),
    );
}

async function cryptoFor(account: Account): Promise<BridgeCrypto> {
  const crypto = await BridgeCrypto.open({
    userId: account.userId,
    deviceId: account.deviceId,
    storeDir: join(scratch(), 'store'),
    key: randomBytes(32),
    send: senderFor(account.client),
  });
  cleanups.push(() => crypto.close());
  return crypto;
}

/** The caller's side: one sync, its crypto fed, its room events decrypted. */
class CallerSide {
  readonly events: RawEvent[] = [];
  /** Types of the events that arrived encrypted. */
  readonly arrivedEncrypted = new Set<string>();
  #since: string | undefined;

  constructor(
    readonly account: Account,
    readonly crypto: BridgeCrypto,
  ) {}

  async sync(): Promise<void> {
    const sync = await this.account.client.sync({
      since: this.#since,
      timeoutMs: this.#since ? 300 : 0,
    });
    this.#since = sync.next_batch;
    await this.crypto.receiveSyncChanges(
      sync.to_device?.events ?? [],
      sync.device_lists ?? {},
      sync.device_one_time_keys_count ?? {},
      sync.device_unused_fallback_key_types,
    );
    await this.crypto.sendOutgoingRequests();
    for (const [roomId, room] of Object.entries(sync.rooms?.join ?? {})) {
      for (const event of room.timeline?.events ?? []) {
        if (event.sender === this.account.userId) continue;
        try {
          const clear = await this.crypto.decrypt(event, roomId);
          if (clear.encrypted) this.arrivedEncrypted.add(String(clear.event.type));
          this.events.push(clear.event);
        } catch {
          this.events.push(event);
        }
      }
    }
  }

  async until(type: string): Promise<RawEvent> {
    for (let i = 0; i < 100; i++) {
      const found = this.events.find((e) => e.type === type);
      if (found !== undefined) return found;
      await this.sync();
    }
    throw new Error(`no ${type} arrived`);
  }
}

/** Alice, with her own crypto, opens an encrypted DM with the bot and waits until it joins. */
async function encryptedDmWith(bot: Account) {
  const alice = await register(hs.server, `alice${Math.random().toString(36).slice(2, 8)}`);
  const side = new CallerSide(alice, await cryptoFor(alice));
  await side.sync();
  const roomId = await dmWith(alice, bot.userId, true);
  await side.sync();
  return { alice, side, roomId };
}

describe('the bridge in an encrypted room', () => {
  it('decrypts an encrypted invite, answers encrypted, carries media, and requires E2EE for the call', async () => {
    const bot = await register(hs.server, `bot${Math.random().toString(36).slice(2, 8)}`);
    const { host, audit, stop } = await assembleBridge({
      bot,
      voice: { require_e2ee: true },
      crypto: await cryptoFor(bot),
      tokensPerSecond: 0,
    });
    cleanups.push(stop);

    const { alice, side, roomId } = await encryptedDmWith(bot);

    const caller = new TestCaller('alice-e2ee', { payloadType: 111 });
    cleanups.push(() => caller.close());
    const invite = {
      call_id: 'secret-call',
      party_id: 'ALICEPHONE',
      version: '1',
      lifetime: 60_000,
      offer: { type: 'offer', sdp: await caller.offer },
    };
    await side.crypto.ensureRoomKeys(roomId, [alice.userId, bot.userId]);
    const encrypted = await side.crypto.encrypt(roomId, 'm.call.invite', invite);
    await alice.client.sendEvent(roomId, 'm.room.encrypted', encrypted);

    const answer = await side.until('m.call.answer');
    expect(answer.content).toMatchObject({ call_id: 'secret-call', party_id: bot.deviceId });
    expect(side.arrivedEncrypted.has('m.call.answer')).toBe(true);
    expect(host.liveCalls).toBe(1);

    // Media flows once the candidates have crossed, encrypted both ways.
    caller.acceptAnswer((answer.content as { answer: { sdp: string } }).answer.sdp);
    await until(() => caller.gatheringComplete, 'the caller candidates');
    const ours = await side.crypto.encrypt(roomId, 'm.call.candidates', {
      call_id: 'secret-call',
      party_id: 'ALICEPHONE',
      version: '1',
      candidates: caller.localCandidates.map((c) => ({ candidate: c.candidate, sdpMid: c.sdpMid })),
    });
    await alice.client.sendEvent(roomId, 'm.room.encrypted', ours);
    const theirs = await side.until('m.call.candidates');
    expect(side.arrivedEncrypted.has('m.call.candidates')).toBe(true);
    caller.addRemoteCandidates((theirs.content as { candidates: never[] }).candidates);
    await until(() => caller.trackOpen, 'the media to connect');
    const sine = new SineCaller(111, caller.ssrc);
    for (let i = 0; i < 50; i++) {
      caller.send(sine.next());
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    sine.close();
    await until(() => caller.received.length > 10, 'echoed audio');

    const hangup = await side.crypto.encrypt(roomId, 'm.call.hangup', {
      call_id: 'secret-call',
      party_id: 'ALICEPHONE',
      version: '1',
      reason: 'user_hangup',
    });
    await alice.client.sendEvent(roomId, 'm.room.encrypted', hangup);
    for (let i = 0; i < 100 && host.liveCalls > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(audit.recent(1)[0]).toMatchObject({
      call_id: 'secret-call',
      state: 'ended',
      end_reason: 'caller_hangup',
    });

    // A plaintext invite in the same encrypted room is refused for E2EE.
    await alice.client.sendEvent(roomId, 'm.call.invite', { ...invite, call_id: 'plain-call' });
    for (let i = 0; i < 100 && audit.count() < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(audit.recent(1)[0]).toMatchObject({
      call_id: 'plain-call',
      end_reason: 'e2ee_required',
    });
  });

  it('retries an invite whose room key arrives in a later sync, and answers it', async () => {
    const bot = await register(hs.server, `bot${Math.random().toString(36).slice(2, 8)}`);
    const botCrypto = await cryptoFor(bot);
    // Hold back every to-device event until a batch has carried an encrypted room event, and
    // hand them over one batch later: the key arrives after the event, as it can in life.
    const realSync = bot.client.sync.bind(bot.client);
    const held: unknown[] = [];
    let holding = true;
    let heldOnce = false;
    bot.client.sync = async (options) => {
      const sync = await realSync(options);
      if (!holding) {
        if (held.length > 0) {
          sync.to_device = {
            events: [...(held.splice(0) as never[]), ...(sync.to_device?.events ?? [])],
          };
        }
        return sync;
      }
      held.push(...(sync.to_device?.events ?? []));
      sync.to_device = { events: [] };
      const encryptedEvent = Object.values(sync.rooms?.join ?? {}).some((room) =>
        (room.timeline?.events ?? []).some((e) => e.type === 'm.room.encrypted'),
      );
      if (encryptedEvent) {
        holding = false;
        heldOnce = true;
      }
      return sync;
    };
    let undecryptable = 0;
    const realDecrypt = botCrypto.decrypt.bind(botCrypto);
    botCrypto.decrypt = async (event, roomId) => {
      try {
        return await realDecrypt(event, roomId);
      } catch (error) {
        undecryptable += 1;
        throw error;
      }
    };
    const { host, stop } = await assembleBridge({
      bot,
      voice: { require_e2ee: true },
      crypto: botCrypto,
      tokensPerSecond: 0,
    });
    cleanups.push(stop);

    const { alice, side, roomId } = await encryptedDmWith(bot);

    const caller = new TestCaller('alice-late-key', { payloadType: 111 });
    cleanups.push(() => caller.close());
    await side.crypto.ensureRoomKeys(roomId, [alice.userId, bot.userId]);
    const encrypted = await side.crypto.encrypt(roomId, 'm.call.invite', {
      call_id: 'late-key-call',
      party_id: 'ALICEPHONE',
      version: '1',
      lifetime: 60_000,
      offer: { type: 'offer', sdp: await caller.offer },
    });
    await alice.client.sendEvent(roomId, 'm.room.encrypted', encrypted);
    // Candidates follow the invite, as they do from real clients; their batch brings the key.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const candidates = await side.crypto.encrypt(roomId, 'm.call.candidates', {
      call_id: 'late-key-call',
      party_id: 'ALICEPHONE',
      version: '1',
      candidates: [],
    });
    await alice.client.sendEvent(roomId, 'm.room.encrypted', candidates);

    const answer = await side.until('m.call.answer');
    expect(answer.content).toMatchObject({ call_id: 'late-key-call' });
    expect(heldOnce).toBe(true);
    expect(undecryptable).toBeGreaterThan(0);
    expect(host.liveCalls).toBe(1);
  });
});
