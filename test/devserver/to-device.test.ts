import { describe, expect, it } from 'vitest';

import { startHarness } from './helpers.js';
import type { SyncResponse } from './responses.js';

describe('to-device messages', () => {
  it('delivers a message once: dropped after the next sync acknowledges it', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const bob = await harness.register('bob');
    await bob.sync();

    await alice.ok('PUT', 'sendToDevice/m.room_key_request/r1', {
      messages: { [bob.userId]: { [bob.deviceId]: { n: 1 } } },
    });
    const first = await bob.sync();
    const second = await bob.sync();

    expect(first.to_device.events).toHaveLength(1);
    expect(second.to_device.events).toEqual([]);
  });

  it('delivers again to a sync that repeats the old since token', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const bob = await harness.register('bob');
    await bob.sync();
    const since = bob.since!;

    await alice.ok('PUT', 'sendToDevice/m.dummy/r1', {
      messages: { [bob.userId]: { [bob.deviceId]: {} } },
    });
    const lost = await bob.sync({ since });
    const retried = await bob.sync({ since });

    expect(lost.to_device.events).toHaveLength(1);
    expect(retried.to_device.events).toHaveLength(1);
  });

  it('does not send twice for a repeated transaction id', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const bob = await harness.register('bob');
    await bob.sync();
    const body = { messages: { [bob.userId]: { [bob.deviceId]: { n: 1 } } } };

    await alice.ok('PUT', 'sendToDevice/m.dummy/same', body);
    await alice.ok('PUT', 'sendToDevice/m.dummy/same', body);

    expect((await bob.sync()).to_device.events).toHaveLength(1);
  });

  it("delivers to all of a user's devices for '*', and to no one else", async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const bob = await harness.register('bob', 'pw');
    const carol = await harness.register('carol');
    const login = await harness.request('POST', 'login', {
      body: { type: 'm.login.password', user: 'bob', password: 'pw' },
    });
    const phone = String(login.body.access_token);

    await alice.ok('PUT', 'sendToDevice/m.dummy/all', {
      messages: { [bob.userId]: { '*': { hello: true } }, '@ghost:localhost': { X: {} } },
    });

    expect((await bob.sync()).to_device.events).toHaveLength(1);
    const onPhone = await harness.request<SyncResponse>('GET', 'sync', { token: phone });
    expect(onPhone.body.to_device.events).toHaveLength(1);
    expect((await carol.sync()).to_device.events).toEqual([]);
  });

  it('refuses a message body that is not an object, naming where', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const answer = await alice.call('PUT', 'sendToDevice/m.dummy/bad', {
      messages: { [alice.userId]: { [alice.deviceId]: 'text' } },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.errcode).toBe('M_BAD_JSON');
    expect(answer.body.error).toContain(`messages.${alice.userId}.${alice.deviceId}`);
  });
});
