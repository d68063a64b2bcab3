import { describe, expect, it } from 'vitest';

import { iceServersFrom } from '../../src/matrix/turn-servers.js';

describe('ICE servers from the homeserver', () => {
  it('puts the credentials into each TURN URI and keeps STUN as it is', () => {
    expect(
      iceServersFrom({
        username: '1443779631:@user:example.com',
        password: 'JlKfBy1QwLrO20385QyAtEyIv0=',
        uris: [
          'turn:turn.example.com:3478?transport=udp',
          'turns:turn.example.com:5349',
          'stun:stun.example.com',
          'http://nope',
        ],
        ttl: 86400,
      }),
    ).toEqual({
      servers: [
        'turn:1443779631%3A%40user%3Aexample.com:JlKfBy1QwLrO20385QyAtEyIv0%3D@turn.example.com:3478?transport=udp',
        'turns:1443779631%3A%40user%3Aexample.com:JlKfBy1QwLrO20385QyAtEyIv0%3D@turn.example.com:5349',
        'stun:stun.example.com',
      ],
      ttlMs: 86_400_000,
    });
  });

  it('gives nothing for an empty or malformed answer', () => {
    expect(iceServersFrom({})).toEqual({ servers: [], ttlMs: 0 });
    expect(iceServersFrom({ username: 1, password: 'x', uris: ['turn:a'] })).toEqual({
      servers: [],
      ttlMs: 0,
    });
    expect(iceServersFrom(null)).toEqual({ servers: [], ttlMs: 0 });
  });
});

describe('homeserver TURN servers', () => {
  it('asks the homeserver and keeps an empty list when it has no TURN server', async () => {
    const { startDevServer } = await import('../../src/devserver/index.js');
    const { HomeserverTurnServers } = await import('../../src/matrix/turn-servers.js');
    const { register } = await import('./matrix-fixtures.js');
    const server = await startDevServer();
    try {
      const bot = await register(server, `bot${Math.random().toString(36).slice(2, 8)}`);
      const turn = new HomeserverTurnServers(bot.client);
      await turn.start();
      turn.stop();
      expect(turn.current()).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
