import { describe, expect, it } from 'vitest';

import { ManualClock } from '../../src/clock.js';
import { path, sharedRoom, startHarness } from './helpers.js';
import { joined, type ClientEvent, type MessagesResponse, type SyncResponse } from './responses.js';

describe('sending with transaction ids', () => {
  it('sends once when the same transaction id is used twice', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const roomId = await alice.createRoom();
    const send = path`rooms/${roomId}/send/m.room.message/${'txn-1'}`;

    const first = await alice.ok('PUT', send, { msgtype: 'm.text', body: 'hello' });
    const again = await alice.ok('PUT', send, { msgtype: 'm.text', body: 'hello' });
    const viaR0 = await harness.request('PUT', `/_matrix/client/r0/${send}`, {
      token: alice.token,
      body: { msgtype: 'm.text', body: 'hello' },
    });

    expect(again.event_id).toBe(first.event_id);
    expect(viaR0.body.event_id).toBe(first.event_id);
    const messages = await alice.ok<MessagesResponse>(
      'GET',
      path`rooms/${roomId}/messages`,
      undefined,
      {
        dir: 'b',
        filter: JSON.stringify({ types: ['m.room.message'] }),
      },
    );
    expect(messages.chunk).toHaveLength(1);
  });

  it('treats the same transaction id from another device, or room, as a new send', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice', 'pw');
    const login = await harness.request('POST', 'login', {
      body: { type: 'm.login.password', user: 'alice', password: 'pw' },
    });
    const roomId = await alice.createRoom();
    const otherRoom = await alice.createRoom();

    const first = await alice.send(roomId, 'one', 'same');
    const fromPhone = await harness.request('PUT', path`rooms/${roomId}/send/m.room.message/same`, {
      token: String(login.body.access_token),
      body: { body: 'two' },
    });
    const elsewhere = await alice.send(otherRoom, 'three', 'same');

    expect(new Set([first, fromPhone.body.event_id, elsewhere]).size).toBe(3);
  });

  it('shows the transaction id to the sending device only', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const bob = await harness.register('bob');
    const roomId = await sharedRoom(alice, bob);
    await alice.sync();
    await bob.sync();

    const eventId = await alice.send(roomId, 'hi', 'mine-42');

    const find = (sync: SyncResponse) =>
      joined(sync, roomId).timeline.events.find((event) => event.event_id === eventId);
    expect(find(await alice.sync())?.unsigned.transaction_id).toBe('mine-42');
    expect(find(await bob.sync())?.unsigned.transaction_id).toBeUndefined();
  });

  it('refuses an event over 65536 bytes with 413 M_TOO_LARGE', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const roomId = await alice.createRoom();

    const answer = await alice.call('PUT', path`rooms/${roomId}/send/m.room.message/big`, {
      body: 'x'.repeat(70_000),
    });
    expect(answer.status).toBe(413);
    expect(answer.body.errcode).toBe('M_TOO_LARGE');
  });
});

describe('event fields', () => {
  it('gives every event id, sender, timestamp, type, content and an age that grows', async () => {
    const clock = new ManualClock();
    const harness = await startHarness({ clock: clock.now });
    const alice = await harness.register('alice');
    const roomId = await alice.createRoom();
    const eventId = await alice.send(roomId, 'tick');

    clock.advance(1500);
    const first = joined(await alice.sync(), roomId).timeline.events;
    clock.advance(2500);
    const single = await alice.ok<ClientEvent>('GET', path`rooms/${roomId}/event/${eventId}`);

    for (const event of first) {
      expect(event.event_id).toMatch(/^\$/);
      expect(event.sender).toBe(alice.userId);
      expect(typeof event.origin_server_ts).toBe('number');
      expect(typeof event.type).toBe('string');
      expect(typeof event.content).toBe('object');
      expect(typeof event.unsigned.age).toBe('number');
    }
    const sent = first.find((event) => event.event_id === eventId);
    expect(sent?.origin_server_ts).toBe(clock.now() - 4000);
    expect(sent?.unsigned.age).toBe(1500);
    expect(single.unsigned.age).toBe(4000);
    expect(single.room_id).toBe(roomId);
  });

  it('carries the previous content of replaced state', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const roomId = await alice.createRoom({ name: 'first' });
    await alice.sync();
    const put = await alice.ok('PUT', path`rooms/${roomId}/state/m.room.name/`, { name: 'second' });

    const events = joined(await alice.sync(), roomId).timeline.events;
    const renamed = events.find((event) => event.event_id === put.event_id);
    expect(renamed?.state_key).toBe('');
    expect(renamed?.unsigned.prev_content).toEqual({ name: 'first' });
  });
});

describe('history', () => {
  it('pages backwards through a room with /messages', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const roomId = await alice.createRoom();
    const sent: string[] = [];
    for (let index = 0; index < 7; index += 1) sent.push(await alice.send(roomId, `m${index}`));

    const onlyMessages = JSON.stringify({ types: ['m.room.message'] });
    const seen: string[] = [];
    let from: string | undefined;
    for (;;) {
      const query: Record<string, string | number> = { dir: 'b', limit: 3, filter: onlyMessages };
      if (from !== undefined) query.from = from;
      const page = await alice.ok<MessagesResponse>(
        'GET',
        path`rooms/${roomId}/messages`,
        undefined,
        query,
      );
      seen.push(...page.chunk.map((event) => event.event_id));
      if (page.end === undefined) break;
      from = String(page.end);
    }

    expect(seen).toEqual([...sent].reverse());
  });

  it('pages forwards from a sync prev_batch', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const roomId = await alice.createRoom();
    const sync = await alice.sync({ filter: JSON.stringify({ room: { timeline: { limit: 1 } } }) });
    const prev = joined(sync, roomId).timeline.prev_batch;

    const back = await alice.ok<MessagesResponse>(
      'GET',
      path`rooms/${roomId}/messages`,
      undefined,
      {
        dir: 'b',
        from: prev,
        limit: 100,
      },
    );
    expect(back.chunk.at(-1)?.type).toBe('m.room.create');
    expect(back.end).toBeUndefined();

    const forward = await alice.ok<MessagesResponse>(
      'GET',
      path`rooms/${roomId}/messages`,
      undefined,
      {
        dir: 'f',
        limit: 2,
      },
    );
    expect(forward.chunk.map((event) => event.type)).toEqual(['m.room.create', 'm.room.member']);
    expect(typeof forward.end).toBe('string');
  });

  it('refuses a direction other than b or f, naming it', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const roomId = await alice.createRoom();
    const answer = await alice.call('GET', path`rooms/${roomId}/messages`, undefined, { dir: 'x' });
    expect(answer.status).toBe(400);
    expect(answer.body.errcode).toBe('M_INVALID_PARAM');
    expect(answer.body.error).toContain('"x"');
  });
});

describe('read markers, typing and receipts', () => {
  it('stores the fully-read marker as room account data', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const roomId = await alice.createRoom();
    const eventId = await alice.send(roomId, 'read me');
    await alice.sync();

    await alice.ok('POST', path`rooms/${roomId}/read_markers`, {
      'm.fully_read': eventId,
      'm.read': eventId,
    });
    await alice.ok('PUT', path`rooms/${roomId}/typing/${alice.userId}`, {
      typing: true,
      timeout: 3000,
    });
    await alice.ok('POST', path`rooms/${roomId}/receipt/m.read/${eventId}`, {});

    const sync = await alice.sync();
    expect(joined(sync, roomId).account_data.events).toEqual([
      { type: 'm.fully_read', content: { event_id: eventId } },
    ]);
    expect(joined(sync, roomId).ephemeral.events).toEqual([]);
  });

  it('refuses to set the typing state of someone else', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const roomId = await alice.createRoom();
    const answer = await alice.call('PUT', path`rooms/${roomId}/typing/${'@bob:localhost'}`, {
      typing: true,
    });
    expect(answer.status).toBe(403);
  });
});
