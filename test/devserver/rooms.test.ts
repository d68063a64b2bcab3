import { describe, expect, it } from 'vitest';

import { path, sharedRoom, startHarness } from './helpers.js';
import type { ClientEvent } from './responses.js';

/** A `GET /rooms/{roomId}/members` response. */
interface Members {
  readonly chunk: ClientEvent[];
}

/** A `GET /rooms/{roomId}/joined_members` response. */
interface JoinedMembers {
  readonly joined: Record<string, { display_name?: string; avatar_url?: string }>;
}

const ENCRYPTION = { algorithm: 'm.megolm.v1.aes-sha2' };

describe('room creation', () => {
  it('creates an encrypted room with version 10 ids, the creator joined', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');

    const roomId = await alice.createRoom({
      preset: 'trusted_private_chat',
      name: 'call room',
      initial_state: [{ type: 'm.room.encryption', state_key: '', content: ENCRYPTION }],
    });

    expect(roomId).toMatch(/^![A-Za-z]{18}:localhost$/);
    const state = await alice.ok<ClientEvent[]>('GET', path`rooms/${roomId}/state`);
    const byType = new Map(state.map((event) => [event.type, event]));
    expect(byType.get('m.room.create')?.content).toMatchObject({ room_version: '10' });
    expect(byType.get('m.room.encryption')?.content).toEqual(ENCRYPTION);
    expect(byType.get('m.room.name')?.content).toEqual({ name: 'call room' });
    expect(byType.get('m.room.join_rules')?.content).toEqual({ join_rule: 'invite' });
    for (const event of state) {
      expect(event.event_id).toMatch(/^\$[A-Za-z0-9_-]{43}$/);
      expect(event.room_id).toBe(roomId);
      expect(typeof event.state_key).toBe('string');
    }
    const members = await alice.ok<JoinedMembers>('GET', path`rooms/${roomId}/joined_members`);
    expect(Object.keys(members.joined)).toEqual([alice.userId]);
  });

  it('refuses to invite a user that does not exist, and creates nothing', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');

    const answer = await alice.call('POST', 'createRoom', { invite: ['@ghost:localhost'] });
    expect(answer.status).toBe(403);
    expect(answer.body.errcode).toBe('M_FORBIDDEN');
    expect(answer.body.error).toContain('@ghost:localhost');
    expect(harness.server.stats().rooms).toBe(0);
  });

  it('refuses a preset it does not know and a room version it does not make', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');

    const preset = await alice.call('POST', 'createRoom', { preset: 'secret_chat' });
    expect(preset.status).toBe(400);
    expect(preset.body.errcode).toBe('M_INVALID_PARAM');
    expect(preset.body.error).toContain('secret_chat');

    const version = await alice.call('POST', 'createRoom', { room_version: '12' });
    expect(version.status).toBe(400);
    expect(version.body.errcode).toBe('M_UNSUPPORTED_ROOM_VERSION');
  });

  it('gives a public room an alias that others can join by', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const bob = await harness.register('bob');

    const roomId = await alice.createRoom({ preset: 'public_chat', room_alias_name: 'lobby' });
    const joined = await bob.ok('POST', path`join/${'#lobby:localhost'}`);
    expect(joined.room_id).toBe(roomId);
    expect(await bob.ok('GET', path`directory/room/${'#lobby:localhost'}`)).toEqual({
      room_id: roomId,
      servers: ['localhost'],
    });
  });
});

describe('membership', () => {
  it('lets an invited user join and lists both as members', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const bob = await harness.register('bob');
    const roomId = await alice.createRoom({ preset: 'private_chat' });

    await alice.ok('POST', path`rooms/${roomId}/invite`, { user_id: bob.userId });
    const invited = await alice.ok<Members>('GET', path`rooms/${roomId}/members`);
    expect(invited.chunk.map((event) => [event.state_key, event.content.membership])).toEqual([
      [alice.userId, 'join'],
      [bob.userId, 'invite'],
    ]);

    expect(await bob.ok('POST', path`rooms/${roomId}/join`)).toEqual({ room_id: roomId });
    const joined = await bob.ok<JoinedMembers>('GET', path`rooms/${roomId}/joined_members`);
    expect(Object.keys(joined.joined).sort()).toEqual([alice.userId, bob.userId].sort());
    expect(joined.joined[bob.userId]).toEqual({ display_name: 'bob' });

    const onlyJoined = await bob.ok<Members>('GET', path`rooms/${roomId}/members`, undefined, {
      membership: 'join',
    });
    expect(onlyJoined.chunk).toHaveLength(2);
  });

  it('refuses to let an uninvited user join a private room', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const mallory = await harness.register('mallory');
    const roomId = await alice.createRoom();

    const answer = await mallory.call('POST', path`rooms/${roomId}/join`);
    expect(answer.status).toBe(403);
    expect(answer.body.errcode).toBe('M_FORBIDDEN');
  });

  it('refuses sends, state reads and invites from users who are not members', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const mallory = await harness.register('mallory');
    const roomId = await alice.createRoom();

    const send = await mallory.call('PUT', path`rooms/${roomId}/send/m.room.message/t1`, {
      body: 'hi',
    });
    expect(send.status).toBe(403);
    expect((await mallory.call('GET', path`rooms/${roomId}/state`)).status).toBe(403);
    const invite = await mallory.call('POST', path`rooms/${roomId}/invite`, {
      user_id: mallory.userId,
    });
    expect(invite.status).toBe(403);
  });

  it('refuses an invite to a user that does not exist', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const roomId = await alice.createRoom();

    const answer = await alice.call('POST', path`rooms/${roomId}/invite`, {
      user_id: '@nobody:localhost',
    });
    expect(answer.status).toBe(403);
    expect(answer.body.error).toContain('@nobody:localhost');
  });

  it('stops a member who left from sending', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const bob = await harness.register('bob');
    const roomId = await sharedRoom(alice, bob);

    await bob.ok('POST', path`rooms/${roomId}/leave`, {});
    const answer = await bob.call('PUT', path`rooms/${roomId}/send/m.room.message/t1`, {
      body: 'still here?',
    });
    expect(answer.status).toBe(403);
  });

  it('answers 404 for a room that does not exist', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const answer = await alice.call('POST', path`rooms/${'!nope:localhost'}/join`);
    expect(answer.status).toBe(404);
    expect(answer.body.errcode).toBe('M_NOT_FOUND');
  });

  it('lets a moderator kick a member, who can then no longer send', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const bob = await harness.register('bob');
    const roomId = await sharedRoom(alice, bob);

    const refused = await bob.call('POST', path`rooms/${roomId}/kick`, { user_id: alice.userId });
    expect(refused.status).toBe(403);
    await alice.ok('POST', path`rooms/${roomId}/kick`, { user_id: bob.userId, reason: 'test' });
    const member = await alice.ok('GET', path`rooms/${roomId}/state/m.room.member/${bob.userId}`);
    expect(member).toEqual({ membership: 'leave', reason: 'test' });
  });
});

describe('room state', () => {
  it('sets and reads state, the empty state key included', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const roomId = await alice.createRoom();

    const put = await alice.ok('PUT', path`rooms/${roomId}/state/m.room.topic/`, {
      topic: 'calls',
    });
    expect(put.event_id).toMatch(/^\$/);
    expect(await alice.ok('GET', path`rooms/${roomId}/state/m.room.topic`)).toEqual({
      topic: 'calls',
    });
    await alice.ok('PUT', path`rooms/${roomId}/state/org.example.thing/${'a/b'}`, { n: 1 });
    expect(await alice.ok('GET', path`rooms/${roomId}/state/org.example.thing/${'a/b'}`)).toEqual({
      n: 1,
    });
    const missing = await alice.call('GET', path`rooms/${roomId}/state/m.room.avatar/`);
    expect(missing.status).toBe(404);
  });

  it('answers the same event id when the same state is set again', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const roomId = await alice.createRoom();

    const first = await alice.ok('PUT', path`rooms/${roomId}/state/m.room.topic/`, { topic: 'a' });
    const second = await alice.ok('PUT', path`rooms/${roomId}/state/m.room.topic/`, { topic: 'a' });
    expect(second.event_id).toBe(first.event_id);
  });

  it('needs the power level for the state type', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const bob = await harness.register('bob');
    const roomId = await sharedRoom(alice, bob);

    const answer = await bob.call(
      'PUT',
      path`rooms/${roomId}/state/m.room.encryption/`,
      ENCRYPTION,
    );
    expect(answer.status).toBe(403);
    expect(answer.body.errcode).toBe('M_FORBIDDEN');
  });

  it('gives invitees of a trusted private chat the creator power level', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const bob = await harness.register('bob');
    const roomId = await sharedRoom(alice, bob, { preset: 'trusted_private_chat' });

    const levels = await bob.ok<{ users: Record<string, number> }>(
      'GET',
      path`rooms/${roomId}/state/m.room.power_levels/`,
    );
    expect(levels.users).toEqual({ [alice.userId]: 100, [bob.userId]: 100 });
  });

  it('lists the rooms a user is joined to', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const first = await alice.createRoom();
    const second = await alice.createRoom();
    await alice.ok('POST', path`rooms/${second}/leave`, {});
    expect(await alice.ok('GET', 'joined_rooms')).toEqual({ joined_rooms: [first] });
  });
});
