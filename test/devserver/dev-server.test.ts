import { X509Certificate } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { startDevServer } from '../../src/devserver/index.js';
import { startHarness } from './helpers.js';

describe('development server lifecycle', () => {
  it('listens on 127.0.0.1 over HTTPS with a certificate for 127.0.0.1 and localhost', async () => {
    const { server, request } = await startHarness();

    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const certificate = new X509Certificate(server.caPem);
    expect(certificate.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(certificate.checkHost('localhost')).toBe('localhost');
    expect((await request('GET', '/_matrix/client/versions')).status).toBe(200);
  });

  it('is refused by a client that does not trust its certificate', async () => {
    const { server } = await startHarness();

    await expect(fetch(`${server.url}/_matrix/client/versions`)).rejects.toThrow();
  });

  it('logs at start that it is an in-memory development server, not for production', async () => {
    const entries: Array<{ level: string; event: string; fields: Record<string, unknown> }> = [];
    const server = await startDevServer({
      log: (level, event, fields) => entries.push({ level, event, fields }),
    });
    await server.close();

    expect(entries[0]).toMatchObject({ level: 'warn', event: 'devserver_started' });
    expect(entries[0]?.fields.url).toBe(server.url);
    expect(String(entries[0]?.fields.message)).toMatch(/development.*memory.*not for production/);
    expect(entries.at(-1)?.event).toBe('devserver_stopped');
  });

  it('answers a waiting long-poll when it closes', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    await alice.sync();

    const waiting = alice.call('GET', 'sync', undefined, { since: alice.since!, timeout: 600_000 });
    await expect.poll(() => harness.server.stats().waitingSyncs).toBe(1);
    await harness.server.close();

    const answer = await waiting;
    expect(answer.status).toBe(200);
    expect(answer.body.next_batch).toBe(alice.since);
  });

  it('closes twice without complaint', async () => {
    const server = await startDevServer();
    await Promise.all([server.close(), server.close()]);
    await server.close();
  });

  it('rejects bad options, naming the option and the value', async () => {
    await expect(startDevServer({ port: 70_000 })).rejects.toThrow(/port.*70000/);
    await expect(startDevServer({ serverName: 'bad name' })).rejects.toThrow(/serverName/);
    await expect(startDevServer({ rateLimit: { messagesPerSecond: 0, burst: 1 } })).rejects.toThrow(
      /messagesPerSecond.*0/,
    );
    await expect(
      startDevServer({ rateLimit: { messagesPerSecond: 1, burst: 0.5 } }),
    ).rejects.toThrow(/burst.*0\.5/);
  });
});

describe('discovery endpoints', () => {
  it('lists spec versions that matrix-js-sdk accepts', async () => {
    const { request } = await startHarness();
    const { body } = await request('GET', '/_matrix/client/versions');
    expect(body.versions).toContain('v1.1');
    expect(body.versions).toContain('r0.6.1');
    expect(body.unstable_features).toEqual({});
  });

  it('points .well-known at its own URL', async () => {
    const { request, server } = await startHarness();
    const { body } = await request('GET', '/.well-known/matrix/client');
    expect(body).toEqual({ 'm.homeserver': { base_url: server.url } });
  });

  it('answers capabilities, empty push rules and an empty TURN answer', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');

    const capabilities = await alice.ok<{ capabilities: Record<string, unknown> }>(
      'GET',
      'capabilities',
    );
    expect(capabilities.capabilities['m.room_versions']).toEqual({
      default: '10',
      available: { '10': 'stable' },
    });
    const rules = await alice.ok<{ global: unknown }>('GET', 'pushrules/');
    expect(rules.global).toEqual({
      override: [],
      content: [],
      room: [],
      sender: [],
      underride: [],
    });
    expect(await alice.ok('GET', 'voip/turnServer')).toEqual({});
  });

  it('serves the r0 paths like the v3 ones', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const answer = await harness.request('GET', '/_matrix/client/r0/account/whoami', {
      token: alice.token,
    });
    expect(answer.body.user_id).toBe('@alice:localhost');
  });

  it('answers a CORS preflight', async () => {
    const { fetch, server } = await startHarness();
    const response = await fetch(`${server.url}/_matrix/client/v3/sync`, { method: 'OPTIONS' });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
  });

  it('serves profiles and restates a new display name in the rooms of the user', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const roomId = await alice.createRoom();

    expect(await alice.ok('GET', 'profile/@alice:localhost')).toEqual({ displayname: 'alice' });
    await alice.ok('PUT', 'profile/@alice:localhost/displayname', { displayname: 'Alice A.' });

    expect(await alice.ok('GET', 'profile/@alice:localhost/displayname')).toEqual({
      displayname: 'Alice A.',
    });
    const member = await alice.ok(
      'GET',
      `rooms/${encodeURIComponent(roomId)}/state/m.room.member/${encodeURIComponent(alice.userId)}`,
    );
    expect(member).toMatchObject({ membership: 'join', displayname: 'Alice A.' });
    expect((await alice.call('GET', 'profile/@nobody:localhost')).body.errcode).toBe('M_NOT_FOUND');
  });
});
