import { describe, expect, it } from 'vitest';

import { path, sharedRoom, startHarness } from './helpers.js';
import { joined, type MessagesResponse } from './responses.js';

const ENCRYPTION = { algorithm: 'm.megolm.v1.aes-sha2' };

describe('sync', () => {
  it('gives an initial sync with joined rooms, state, timeline and the device fields', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const roomId = await alice.createRoom({ name: 'r' });

    const sync = await alice.sync();

    expect(sync.next_batch).toMatch(/^s\d+$/);
    const room = joined(sync, roomId);
    expect(room.timeline.limited).toBe(false);
    expect(room.timeline.prev_batch).toMatch(/^s\d+$/);
    const types = [...room.state.events, ...room.timeline.events].map((event) => event.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'm.room.create',
        'm.room.member',
        'm.room.power_levels',
        'm.room.name',
      ]),
    );
    expect(room.ephemeral).toEqual({ events: [] });
    expect(room.account_data).toEqual({ events: [] });
    expect(sync.to_device).toEqual({ events: [] });
    expect(sync.device_lists).toEqual({ changed: [], left: [] });
    expect(sync.device_one_time_keys_count).toEqual({ signed_curve25519: 0 });
    expect(sync.device_unused_fallback_key_types).toEqual([]);
  });

  it('wakes a long-poll when a new event arrives in a joined room', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const bob = await harness.register('bob');
    const roomId = await sharedRoom(alice, bob);
    await bob.sync();

    const waiting = bob.sync({ timeout: 60_000 });
    await expect.poll(() => harness.server.stats().waitingSyncs).toBe(1);
    const eventId = await alice.send(roomId, 'wake up');

    const sync = await waiting;
    const events = joined(sync, roomId).timeline.events;
    expect(events.map((event) => event.event_id)).toEqual([eventId]);
    expect(events[0]?.content).toEqual({ msgtype: 'm.text', body: 'wake up' });
  });

  it('wakes a long-poll when a to-device message arrives', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const bob = await harness.register('bob');
    await bob.sync();

    const waiting = bob.sync({ timeout: 60_000 });
    await expect.poll(() => harness.server.stats().waitingSyncs).toBe(1);
    await alice.ok('PUT', 'sendToDevice/m.call.candidates/t1', {
      messages: { [bob.userId]: { [bob.deviceId]: { call_id: 'c1' } } },
    });

    expect((await waiting).to_device.events).toEqual([
      { type: 'm.call.candidates', sender: alice.userId, content: { call_id: 'c1' } },
    ]);
  });

  it('stays asleep through what does not concern the user, and answers at the timeout', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const bob = await harness.register('bob');
    const roomId = await alice.createRoom();
    await bob.sync();
    const before = bob.since;

    const waiting = bob.sync({ timeout: 300 });
    await alice.send(roomId, 'not for bob');
    const sync = await waiting;

    expect(sync.rooms.join).toEqual({});
    expect(sync.next_batch).not.toBe(before);
  });

  it('shows an invite with the inviter and the room create, name and encryption', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const bob = await harness.register('bob');
    await bob.sync();
    const roomId = await alice.createRoom({
      name: 'secret call',
      invite: [bob.userId],
      is_direct: true,
      initial_state: [{ type: 'm.room.encryption', content: ENCRYPTION }],
    });

    const sync = await bob.sync({ timeout: 10_000 });
    const stripped = sync.rooms.invite[roomId]?.invite_state.events ?? [];
    const find = (type: string, stateKey = '') =>
      stripped.find((event) => event.type === type && event.state_key === stateKey);
    expect(find('m.room.create')?.content.room_version).toBe('10');
    expect(find('m.room.name')?.content).toEqual({ name: 'secret call' });
    expect(find('m.room.encryption')?.content).toEqual(ENCRYPTION);
    expect(find('m.room.member', alice.userId)?.content.membership).toBe('join');
    const invite = find('m.room.member', bob.userId);
    expect(invite).toMatchObject({
      sender: alice.userId,
      content: { membership: 'invite', is_direct: true },
    });

    await bob.ok('POST', path`join/${roomId}`);
    const afterJoin = await bob.sync();
    expect(afterJoin.rooms.invite).toEqual({});
    const room = joined(afterJoin, roomId);
    const all = [...room.state.events, ...room.timeline.events];
    expect(all.some((event) => event.type === 'm.room.create')).toBe(true);
    expect(all.some((event) => event.type === 'm.room.encryption')).toBe(true);
  });

  it('moves a room the user left to rooms.leave, ending with the leave', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const bob = await harness.register('bob');
    const roomId = await sharedRoom(alice, bob);
    await bob.sync();

    await bob.ok('POST', path`rooms/${roomId}/leave`, {});
    await alice.send(roomId, 'after bob left');
    const sync = await bob.sync();

    expect(sync.rooms.join[roomId]).toBeUndefined();
    const events = sync.rooms.leave[roomId]?.timeline.events ?? [];
    expect(events.at(-1)).toMatchObject({
      type: 'm.room.member',
      content: { membership: 'leave' },
    });
    expect(events.some((event) => event.content.body === 'after bob left')).toBe(false);
  });

  it('limits the timeline as the filter says, with limited and prev_batch', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const roomId = await alice.createRoom();
    await alice.sync();
    for (let index = 0; index < 5; index += 1) await alice.send(roomId, `m${index}`);

    const { filter_id: filterId } = await alice.ok<{ filter_id: string }>(
      'POST',
      path`user/${alice.userId}/filter`,
      { room: { timeline: { limit: 2 } } },
    );
    expect(await alice.ok('GET', path`user/${alice.userId}/filter/${filterId}`)).toEqual({
      room: { timeline: { limit: 2 } },
    });
    const sync = await alice.sync({ filter: filterId });

    const timeline = joined(sync, roomId).timeline;
    expect(timeline.events.map((event) => event.content.body)).toEqual(['m3', 'm4']);
    expect(timeline.limited).toBe(true);
    const earlier = await alice.ok<MessagesResponse>(
      'GET',
      path`rooms/${roomId}/messages`,
      undefined,
      {
        dir: 'b',
        from: timeline.prev_batch,
        limit: 1,
      },
    );
    expect(earlier.chunk[0]?.content.body).toBe('m2');
  });

  it('filters timeline events by type and not_types, with an inline filter', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const roomId = await alice.createRoom();
    await alice.sync();
    await alice.send(roomId, 'text');
    await alice.ok('PUT', path`rooms/${roomId}/send/m.call.invite/c1`, { call_id: 'c1' });
    await alice.ok('PUT', path`rooms/${roomId}/send/m.call.hangup/c2`, { call_id: 'c1' });
    const since = alice.since!;

    const calls = await alice.sync({
      since,
      filter: JSON.stringify({
        room: { timeline: { types: ['m.call.*'], not_types: ['m.call.hangup'] } },
      }),
    });
    expect(joined(calls, roomId).timeline.events.map((event) => event.type)).toEqual([
      'm.call.invite',
    ]);
  });

  it('sends the whole state again on full_state', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const roomId = await alice.createRoom();
    await alice.sync();
    await alice.send(roomId, 'x');

    const sync = await alice.sync({ full_state: true });
    const types = joined(sync, roomId).state.events.map((event) => event.type);
    expect(types).toEqual(expect.arrayContaining(['m.room.create', 'm.room.power_levels']));
  });

  it('delivers global account data and wakes on it', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    await alice.sync();

    const waiting = alice.sync({ timeout: 60_000 });
    await expect.poll(() => harness.server.stats().waitingSyncs).toBe(1);
    await alice.ok('PUT', path`user/${alice.userId}/account_data/m.direct`, {
      '@bob:localhost': ['!r:localhost'],
    });

    expect((await waiting).account_data.events).toEqual([
      { type: 'm.direct', content: { '@bob:localhost': ['!r:localhost'] } },
    ]);
    expect(await alice.ok('GET', path`user/${alice.userId}/account_data/m.direct`)).toEqual({
      '@bob:localhost': ['!r:localhost'],
    });
    const other = await alice.call('GET', path`user/${'@bob:localhost'}/account_data/m.direct`);
    expect(other.status).toBe(403);
  });

  it('refuses a since token this server never gave', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const answer = await alice.call('GET', 'sync', undefined, { since: 's999999' });
    expect(answer.status).toBe(400);
    expect(answer.body.errcode).toBe('M_INVALID_PARAM');
    expect(answer.body.error).toContain('s999999');
  });

  it('refuses a filter id the user never made and a filter of the wrong shape', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const unknown = await alice.call('GET', 'sync', undefined, { filter: '42' });
    expect(unknown.status).toBe(400);
    const shape = await alice.call('POST', path`user/${alice.userId}/filter`, {
      room: { timeline: { limit: 'ten' } },
    });
    expect(shape.status).toBe(400);
    expect(shape.body.error).toContain('room.timeline.limit');
    expect(shape.body.error).toContain('"ten"');
  });

  it('lets go of a long-poll whose client went away', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    await alice.sync();
    const controller = new AbortController();
    const url = `${harness.server.url}/_matrix/client/v3/sync?since=${alice.since}&timeout=600000`;

    const waiting = harness.fetch(url, {
      headers: { authorization: `Bearer ${alice.token}` },
      signal: controller.signal,
    });
    await expect.poll(() => harness.server.stats().waitingSyncs).toBe(1);
    controller.abort();

    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    await expect.poll(() => harness.server.stats().waitingSyncs).toBe(0);
  });
});
