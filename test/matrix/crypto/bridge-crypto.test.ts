import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { CryptoError } from '../../../src/matrix/crypto/crypto-error.js';
import { KeyRelay } from './fixtures/key-relay.js';
import {
  BRIDGE,
  CALLER,
  callInvite,
  connectedPair,
  openParty,
  partiesPerTest,
  type Party,
  reopenParty,
  ROOM,
  roomEvent,
  syncParty,
} from './fixtures/parties.js';

const scratch = partiesPerTest();
const open = scratch.open;

async function pair(): Promise<{ relay: KeyRelay; bridge: Party; caller: Party }> {
  const parties = await connectedPair(scratch.dir);
  open.push(parties.bridge, parties.caller);
  return parties;
}

describe('BridgeCrypto between a bridge and a caller', () => {
  it('uploads device keys, queries the peer and claims a one-time key for an Olm session', async () => {
    const { relay } = await pair();

    expect(relay.sent(BRIDGE.userId, 'keys_upload').length).toBeGreaterThan(0);
    expect(relay.sent(CALLER.userId, 'keys_upload').length).toBeGreaterThan(0);
    expect(relay.sent(BRIDGE.userId, 'keys_query').length).toBeGreaterThan(0);
    expect(relay.sent(BRIDGE.userId, 'keys_claim')).toHaveLength(1);
    expect(relay.sent(CALLER.userId, 'keys_claim')).toHaveLength(1);
    // The room key travels Olm-encrypted, one to-device message per peer device.
    const shares = relay.sent(BRIDGE.userId, 'to_device', 'm.room.encrypted');
    expect(shares).toHaveLength(1);
    expect(shares[0]?.recipients).toBe(1);
  });

  it('lets the bridge decrypt an m.call.invite the caller encrypted', async () => {
    const { bridge, caller } = await pair();

    const invite = callInvite('call-1');
    const content = await caller.crypto.encrypt(ROOM, 'm.call.invite', invite);
    expect(content.algorithm).toBe('m.megolm.v1.aes-sha2');
    expect(JSON.stringify(content)).not.toContain('call-1');

    const sent = roomEvent(CALLER.userId, content);
    const result = await bridge.crypto.decrypt(sent, ROOM);

    expect(result.encrypted).toBe(true);
    expect(result.event.type).toBe('m.call.invite');
    expect(result.event.content).toEqual(invite);
    expect(result.event.event_id).toBe(sent.event_id);
    expect(result.event.sender).toBe(CALLER.userId);
    expect(result.senderDevice).toBe(CALLER.deviceId);
    expect(result.senderCurve25519Key).toBe(caller.crypto.identityKeys.curve25519);
  });

  it('lets the caller decrypt an m.call.answer the bridge encrypted', async () => {
    const { bridge, caller } = await pair();

    const answer = {
      call_id: 'call-1',
      party_id: 'bridge-party',
      version: '1',
      answer: { type: 'answer', sdp: 'v=0\r\n' },
    };
    const content = await bridge.crypto.encrypt(ROOM, 'm.call.answer', answer);
    const result = await caller.crypto.decrypt(roomEvent(BRIDGE.userId, content), ROOM);

    expect(result.event.type).toBe('m.call.answer');
    expect(result.event.content).toEqual(answer);
  });

  it('passes an unencrypted event through unchanged', async () => {
    const { bridge } = await pair();
    const event = { type: 'm.call.hangup', content: { call_id: 'c', version: '1' }, sender: 'x' };

    const result = await bridge.crypto.decrypt(event, ROOM);

    expect(result).toEqual({ event, encrypted: false });
  });

  it('fails with undecryptable until the room key arrives, then decrypts', async () => {
    const { relay, bridge, caller } = await pair();
    const otherRoom = '!second-room:localhost';
    await caller.crypto.ensureRoomKeys(otherRoom, [BRIDGE.userId, CALLER.userId]);
    const invite = callInvite('call-late');
    const event = roomEvent(
      CALLER.userId,
      await caller.crypto.encrypt(otherRoom, 'm.call.invite', invite),
    );

    // The room key sits in the bridge's to-device inbox: the room event got there first.
    expect(relay.pendingToDevice(BRIDGE.userId, BRIDGE.deviceId)).toHaveLength(1);
    const error = await bridge.crypto.decrypt(event, otherRoom).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CryptoError);
    expect((error as CryptoError).code).toBe('undecryptable');
    expect((error as CryptoError).reason).toBe('MissingRoomKey');

    const received = await syncParty(relay, bridge);
    expect(received.map((r) => r.kind)).toEqual(['decrypted']);
    const result = await bridge.crypto.decrypt(event, otherRoom);
    expect(result.event.content).toEqual(invite);
  });

  it('shares a room key once, then encrypts many events without sharing again', async () => {
    const { relay, bridge, caller } = await pair();
    // The caller's own Olm session to the bridge counts as an unwedging attempt, so the library
    // re-sends the current room key once on the first encryption after it arrived.
    await bridge.crypto.encrypt(ROOM, 'm.call.candidates', { call_id: 'c', i: -1 });
    await syncParty(relay, caller);
    const before = relay.sent(BRIDGE.userId, 'to_device').length;

    for (let i = 0; i < 5; i += 1) {
      const content = await bridge.crypto.encrypt(ROOM, 'm.call.candidates', { call_id: 'c', i });
      const result = await caller.crypto.decrypt(roomEvent(BRIDGE.userId, content), ROOM);
      expect(result.event.content).toEqual({ call_id: 'c', i });
    }

    expect(relay.sent(BRIDGE.userId, 'to_device')).toHaveLength(before);
    expect(relay.sent(BRIDGE.userId, 'keys_claim')).toHaveLength(1);
  });

  it('serialises concurrent encryptions in one room without losing any', async () => {
    const { bridge, caller } = await pair();

    const contents = await Promise.all(
      Array.from({ length: 8 }, (_, i) => bridge.crypto.encrypt(ROOM, 'm.call.candidates', { i })),
    );
    const decrypted = await Promise.all(
      contents.map((c) => caller.crypto.decrypt(roomEvent(BRIDGE.userId, c), ROOM)),
    );

    expect(decrypted.map((d) => d.event.content.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('refuses to encrypt for a room whose members it was never given', async () => {
    const { bridge } = await pair();

    const error = await bridge.crypto
      .encrypt('!unknown:localhost', 'm.call.invite', {})
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'room_not_prepared' });
  });

  it('reports a failed send as request_failed and succeeds on the next try', async () => {
    const relay = new KeyRelay();
    const bridge = await openParty(relay, BRIDGE, join(scratch.dir, 'bridge'));
    const caller = await openParty(relay, CALLER, join(scratch.dir, 'caller'));
    open.push(bridge, caller);
    await syncParty(relay, bridge);
    await syncParty(relay, caller);

    relay.failNext.add('keys_claim');
    const members = [BRIDGE.userId, CALLER.userId];
    const error = await bridge.crypto.ensureRoomKeys(ROOM, members).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'request_failed' });

    await bridge.crypto.ensureRoomKeys(ROOM, members);
    await syncParty(relay, caller);
    const content = await bridge.crypto.encrypt(ROOM, 'm.call.invite', callInvite('retry'));
    const result = await caller.crypto.decrypt(roomEvent(BRIDGE.userId, content), ROOM);
    expect(result.event.content).toEqual(callInvite('retry'));
  });

  it('decrypts an incoming event while a key share in another room waits on the network', async () => {
    const { relay, bridge, caller } = await pair();
    const invite = callInvite('while-sharing');
    const event = roomEvent(
      CALLER.userId,
      await caller.crypto.encrypt(ROOM, 'm.call.invite', invite),
    );
    await syncParty(relay, bridge);

    const release = relay.hold('to_device');
    let shared = false;
    const sharing = bridge.crypto
      .ensureRoomKeys('!other:localhost', [BRIDGE.userId, CALLER.userId])
      .then(() => (shared = true));
    const result = await bridge.crypto.decrypt(event, ROOM);
    expect(shared).toBe(false);
    release();
    await sharing;

    expect(result.event.content).toEqual(invite);
  });

  it('lets work queued before close finish, and keeps it in the store', async () => {
    const { relay, bridge, caller } = await pair();

    const pending = bridge.crypto.encrypt(ROOM, 'm.call.answer', { call_id: 'closing' });
    const closing = bridge.crypto.close();
    const content = await pending;
    await closing;
    open.splice(open.indexOf(bridge), 1);

    await expect(
      bridge.crypto.decrypt(roomEvent(CALLER.userId, content), ROOM),
    ).rejects.toMatchObject({ code: 'closed' });
    await syncParty(relay, caller);
    const answer = await caller.crypto.decrypt(roomEvent(BRIDGE.userId, content), ROOM);
    expect(answer.event.content).toEqual({ call_id: 'closing' });

    const reopened = await reopenParty(relay, bridge);
    open.push(reopened);
    await reopened.crypto.ensureRoomKeys(ROOM, [BRIDGE.userId, CALLER.userId]);
    const next = await reopened.crypto.encrypt(ROOM, 'm.call.hangup', { call_id: 'closing' });
    expect(next.session_id).toBe(content.session_id);
    const hangup = await caller.crypto.decrypt(roomEvent(BRIDGE.userId, next), ROOM);
    expect(hangup.event.content).toEqual({ call_id: 'closing' });
  });

  it('hands back to-device events sent in the clear as plaintext', async () => {
    const { bridge } = await pair();
    const ping = { type: 'org.example.ping', sender: CALLER.userId, content: { n: 1 } };

    const received = await bridge.crypto.receiveSyncChanges([ping]);

    expect(received).toEqual([{ kind: 'plaintext', event: ping }]);
  });

  it('leaves the machine and the store alone for a sync with nothing new for the crypto', async () => {
    const { bridge } = await pair();
    const counts = { signed_curve25519: 50 };
    await bridge.crypto.receiveSyncChanges([], {}, counts, []);
    const before = bridge.crypto.storeStats();

    // The same counts again, nothing else: not fed, nothing saved.
    expect(await bridge.crypto.receiveSyncChanges([], {}, { ...counts }, [])).toEqual([]);
    const after = bridge.crypto.storeStats();
    expect([after.saves, after.savesSkipped]).toEqual([before.saves, before.savesSkipped]);

    // A changed count, a device list change or a to-device event is fed again.
    await bridge.crypto.receiveSyncChanges([], {}, { signed_curve25519: 49 }, []);
    const changed = bridge.crypto.storeStats();
    expect(changed.saves + changed.savesSkipped).toBeGreaterThan(after.saves + after.savesSkipped);
    await bridge.crypto.receiveSyncChanges(
      [],
      { changed: [CALLER.userId] },
      { signed_curve25519: 49 },
      [],
    );
    const listed = bridge.crypto.storeStats();
    expect(listed.saves + listed.savesSkipped).toBeGreaterThan(
      changed.saves + changed.savesSkipped,
    );
    const ping = { type: 'org.example.ping', sender: CALLER.userId, content: { n: 2 } };
    expect(
      await bridge.crypto.receiveSyncChanges([ping], {}, { signed_curve25519: 49 }, []),
    ).toEqual([{ kind: 'plaintext', event: ping }]);
  });

  it('shares one save among machine calls queued together, and hands none back before it', async () => {
    const { bridge } = await pair();
    await bridge.crypto.receiveSyncChanges([], {}, { signed_curve25519: 50 }, []);
    const before = bridge.crypto.storeStats().saves;

    // Five syncs at once, each with new key counts: each changes the store.
    const seenSaves: number[] = [];
    await Promise.all(
      [45, 44, 43, 42, 41].map(async (count) => {
        await bridge.crypto.receiveSyncChanges([], {}, { signed_curve25519: count }, []);
        seenSaves.push(bridge.crypto.storeStats().saves);
      }),
    );
    const saves = bridge.crypto.storeStats().saves - before;
    expect(saves).toBeGreaterThanOrEqual(1);
    expect(saves).toBeLessThan(5);
    // Every call came back only after a save that followed it.
    for (const seen of seenSaves) expect(seen).toBeGreaterThan(before);
  });

  it('names the field and value of bad input', async () => {
    const { bridge } = await pair();

    await expect(bridge.crypto.ensureRoomKeys(ROOM, ['not-a-user'])).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining('members[0]') as unknown,
    });
    await expect(bridge.crypto.decrypt({ type: 'm.room.encrypted' }, ROOM)).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining('roomEvent.content') as unknown,
    });
    await expect(bridge.crypto.encrypt('room', 'm.call.invite', {})).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining('roomId') as unknown,
    });
    await expect(
      bridge.crypto.receiveSyncChanges([], {}, { signed_curve25519: -1 }),
    ).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining('oneTimeKeyCounts.signed_curve25519') as unknown,
    });
    await expect(
      bridge.crypto.markRequestAsSent('id', 'keys_teleport' as 'keys_upload', '{}'),
    ).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining('keys_teleport') as unknown,
    });
  });

  it('hands out typed requests with their HTTP method and path', async () => {
    const relay = new KeyRelay();
    const bridge = await openParty(relay, BRIDGE, join(scratch.dir, 'bridge'));
    open.push(bridge);

    const requests = await bridge.crypto.outgoingRequests();

    const upload = requests.find((r) => r.kind === 'keys_upload');
    expect(upload).toMatchObject({ method: 'POST', path: '/_matrix/client/v3/keys/upload' });
    const body = JSON.parse(upload?.body ?? '{}') as { device_keys?: { device_id?: string } };
    expect(body.device_keys?.device_id).toBe(BRIDGE.deviceId);

    for (const request of requests) {
      const response = await relay.senderFor(BRIDGE.userId, BRIDGE.deviceId)(request);
      await bridge.crypto.markRequestAsSent(request.id, request.kind, response);
    }
    expect(await bridge.crypto.outgoingRequests()).toEqual([]);
  });
});
