import { describe, expect, it } from 'vitest';

import { ManualClock } from '../../src/clock.js';
import { path, startHarness } from './helpers.js';

describe('send rate limit', () => {
  it('answers 429 M_LIMIT_EXCEEDED with retry_after_ms once the burst is spent', async () => {
    const clock = new ManualClock();
    const harness = await startHarness({
      clock: clock.now,
      rateLimit: { messagesPerSecond: 0.5, burst: 2 },
    });
    const alice = await harness.register('alice');
    const roomId = await alice.createRoom();
    const send = (txnId: string) =>
      alice.call('PUT', path`rooms/${roomId}/send/m.room.message/${txnId}`, { body: txnId });

    expect((await send('a')).status).toBe(200);
    expect((await send('b')).status).toBe(200);
    const refused = await send('c');

    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({
      errcode: 'M_LIMIT_EXCEEDED',
      error: 'Too many requests',
      retry_after_ms: 2000,
    });

    clock.advance(1000);
    expect((await send('c')).body.retry_after_ms).toBe(1000);
    clock.advance(1000);
    expect((await send('c')).status).toBe(200);
  });

  it('does not count a retried transaction against the limit', async () => {
    const clock = new ManualClock();
    const harness = await startHarness({
      clock: clock.now,
      rateLimit: { messagesPerSecond: 1, burst: 1 },
    });
    const alice = await harness.register('alice');
    const roomId = await alice.createRoom();
    const send = (txnId: string) =>
      alice.call('PUT', path`rooms/${roomId}/send/m.room.message/${txnId}`, { body: txnId });

    const first = await send('a');
    const retry = await send('a');

    expect(retry.status).toBe(200);
    expect(retry.body.event_id).toBe(first.body.event_id);
    expect((await send('b')).status).toBe(429);
  });

  it('limits each user on their own', async () => {
    const clock = new ManualClock();
    const harness = await startHarness({
      clock: clock.now,
      rateLimit: { messagesPerSecond: 1, burst: 1 },
    });
    const alice = await harness.register('alice');
    const bob = await harness.register('bob');
    const roomId = await alice.createRoom({ preset: 'public_chat' });
    await bob.ok('POST', path`rooms/${roomId}/join`);

    await alice.send(roomId, 'a');
    expect((await alice.call('PUT', path`rooms/${roomId}/send/m.room.message/x`, {})).status).toBe(
      429,
    );
    expect((await bob.call('PUT', path`rooms/${roomId}/send/m.room.message/x`, {})).status).toBe(
      200,
    );
  });

  it('does not limit sends when no limit is set', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const roomId = await alice.createRoom();
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        alice.call('PUT', path`rooms/${roomId}/send/m.room.message/${String(index)}`, {}),
      ),
    );
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
  });
});
