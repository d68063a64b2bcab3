import { describe, expect, it } from 'vitest';

import { path, sharedRoom, startHarness, type TestUser } from './helpers.js';
import type { Body, SyncResponse } from './responses.js';

/** A `POST /keys/query` response. */
interface KeysQuery {
  readonly failures: Body;
  readonly device_keys: Record<string, Record<string, Body>>;
}

/** A `POST /keys/claim` response. */
interface KeysClaim {
  readonly one_time_keys: Record<string, Record<string, Body>>;
}

/** A `GET /keys/changes` response. */
type DeviceLists = SyncResponse['device_lists'];

/** Device keys as a client uploads them (signatures are not checked by the server). */
function deviceKeys(user: TestUser) {
  return {
    user_id: user.userId,
    device_id: user.deviceId,
    algorithms: ['m.olm.v1.curve25519-aes-sha2', 'm.megolm.v1.aes-sha2'],
    keys: {
      [`curve25519:${user.deviceId}`]: 'curve-key',
      [`ed25519:${user.deviceId}`]: 'ed-key',
    },
    signatures: { [user.userId]: { [`ed25519:${user.deviceId}`]: 'sig' } },
  };
}

function signedKey(key: string) {
  return { key, signatures: { '@x:localhost': { 'ed25519:X': 'sig' } } };
}

describe('end-to-end keys', () => {
  it('stores uploaded keys and answers the one-time key counts', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');

    const answer = await alice.ok('POST', 'keys/upload', {
      device_keys: deviceKeys(alice),
      one_time_keys: {
        'signed_curve25519:AAAAAQ': signedKey('k1'),
        'signed_curve25519:AAAAAg': signedKey('k2'),
      },
      fallback_keys: { 'signed_curve25519:AAAAAw': { ...signedKey('fb'), fallback: true } },
    });

    expect(answer).toEqual({ one_time_key_counts: { signed_curve25519: 2 } });
    const sync = await alice.sync();
    expect(sync.device_one_time_keys_count).toEqual({ signed_curve25519: 2 });
    expect(sync.device_unused_fallback_key_types).toEqual(['signed_curve25519']);
  });

  it('answers a key query with the device keys of the users asked for', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const bob = await harness.register('bob');
    await alice.ok('POST', 'keys/upload', { device_keys: deviceKeys(alice) });

    const answer = await bob.ok<KeysQuery>('POST', 'keys/query', {
      device_keys: { [alice.userId]: [], '@ghost:localhost': [] },
    });

    expect(answer.failures).toEqual({});
    expect(answer.device_keys[alice.userId]?.[alice.deviceId]).toMatchObject(deviceKeys(alice));
    expect(answer.device_keys['@ghost:localhost']).toEqual({});
  });

  it('hands out each one-time key once, then the fallback key', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const bob = await harness.register('bob');
    await alice.ok('POST', 'keys/upload', {
      one_time_keys: { 'signed_curve25519:AAAAAQ': signedKey('only') },
      fallback_keys: { 'signed_curve25519:AAAAAw': signedKey('fallback') },
    });
    const claim = async () => {
      const answer = await bob.ok<KeysClaim>('POST', 'keys/claim', {
        one_time_keys: { [alice.userId]: { [alice.deviceId]: 'signed_curve25519' } },
      });
      return answer.one_time_keys[alice.userId]?.[alice.deviceId];
    };

    const first = await claim();
    const second = await claim();
    const third = await claim();

    expect(first).toEqual({ 'signed_curve25519:AAAAAQ': signedKey('only') });
    expect(second).toEqual({ 'signed_curve25519:AAAAAw': signedKey('fallback') });
    expect(third).toEqual(second);
    const sync = await alice.sync();
    expect(sync.device_one_time_keys_count).toEqual({ signed_curve25519: 0 });
    expect(sync.device_unused_fallback_key_types).toEqual([]);
  });

  it('answers no key for a device that has none', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const bob = await harness.register('bob');
    const answer = await bob.ok('POST', 'keys/claim', {
      one_time_keys: { [alice.userId]: { [alice.deviceId]: 'signed_curve25519' } },
    });
    expect(answer).toEqual({ one_time_keys: { [alice.userId]: {} }, failures: {} });
  });

  it('refuses a one-time key id reused with other contents', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    await alice.ok('POST', 'keys/upload', {
      one_time_keys: { 'signed_curve25519:A': signedKey('1') },
    });

    const answer = await alice.call('POST', 'keys/upload', {
      one_time_keys: { 'signed_curve25519:A': signedKey('2') },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toContain('signed_curve25519:A');
  });

  it("refuses device keys that name another user's device", async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const bob = await harness.register('bob');
    const answer = await alice.call('POST', 'keys/upload', { device_keys: deviceKeys(bob) });
    expect(answer.status).toBe(400);
    expect(answer.body.errcode).toBe('M_INVALID_PARAM');
  });

  it('tells room members about a changed device list through sync and /keys/changes', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const bob = await harness.register('bob');
    const roomId = await sharedRoom(alice, bob);
    await bob.sync();
    const from = bob.since!;

    const waiting = bob.sync({ timeout: 60_000 });
    await expect.poll(() => harness.server.stats().waitingSyncs).toBe(1);
    await alice.ok('POST', 'keys/upload', { device_keys: deviceKeys(alice) });

    expect((await waiting).device_lists.changed).toContain(alice.userId);
    const changes = await bob.ok<DeviceLists>('GET', 'keys/changes', undefined, {
      from,
      to: bob.since!,
    });
    expect(changes.changed).toContain(alice.userId);

    await alice.ok('POST', path`rooms/${roomId}/leave`, {});
    expect((await bob.sync()).device_lists.left).toEqual([alice.userId]);
  });

  it('tells a user who joins a room about the devices of its members', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const bob = await harness.register('bob');
    await bob.sync();
    const roomId = await alice.createRoom({ invite: [bob.userId] });
    await bob.sync();

    await bob.ok('POST', path`rooms/${roomId}/join`);
    expect((await bob.sync()).device_lists.changed).toEqual([alice.userId]);
  });
});
