import { Writable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { SecurityLog } from '../../src/telemetry/security-log.js';

function capture(): { log: SecurityLog; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const log = SecurityLog.create('info', stream);
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { log, lines };
}

describe('security log', () => {
  it('writes one JSON line per event with its stable name and ids', async () => {
    const { log, lines } = capture();
    log.emit('voice_access_denied', {
      resource: 'voice_call_start',
      reason: 'user_blocked',
      call_id: 'c1',
      room_id: '!r:example.org',
      user_id: '@m:example.org',
    });
    await new Promise((resolve) => setImmediate(resolve));
    const [line] = lines();
    expect(line).toMatchObject({
      event: 'voice_access_denied',
      component: 'security',
      reason: 'user_blocked',
      call_id: 'c1',
      room_id: '!r:example.org',
      user_id: '@m:example.org',
      level: 40,
    });
  });

  it('keeps logging and telling other listeners when one listener throws', async () => {
    const { log, lines } = capture();
    const heard: string[] = [];
    log.listen(() => {
      throw new Error('broken listener');
    });
    log.listen((event) => heard.push(event));
    log.emit('voice_budget_warning', { call_id: 'c2', limit: 'tokens' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(heard).toEqual(['voice_budget_warning']);
    expect(lines().map((l) => l.event)).toEqual([
      'voice_budget_warning',
      'security_listener_failed',
    ]);
  });

  it('says nobody wants an event when the level is off and nobody listens', () => {
    const log = SecurityLog.silent();
    expect(log.wants('voice_call_registered')).toBe(false);
    log.listen(() => {});
    expect(log.wants('voice_call_registered')).toBe(true);
  });
});
