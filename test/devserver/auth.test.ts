import { describe, expect, it } from 'vitest';

import { startHarness } from './helpers.js';

describe('registration', () => {
  it('asks for the dummy auth stage, then registers and logs the device in', async () => {
    const { request } = await startHarness();

    const challenge = await request('POST', 'register', {
      body: { username: 'alice', password: 'pw' },
    });
    expect(challenge.status).toBe(401);
    expect(challenge.body.flows).toEqual([{ stages: ['m.login.dummy'] }]);
    expect(typeof challenge.body.session).toBe('string');

    const done = await request('POST', 'register', {
      body: {
        username: 'alice',
        password: 'pw',
        initial_device_display_name: 'laptop',
        auth: { type: 'm.login.dummy', session: challenge.body.session },
      },
    });
    expect(done.status).toBe(200);
    expect(done.body.user_id).toBe('@alice:localhost');
    expect(done.body.device_id).toMatch(/^[A-Z]{10}$/);

    const whoami = await request('GET', 'account/whoami', {
      token: String(done.body.access_token),
    });
    expect(whoami.body).toEqual({
      user_id: '@alice:localhost',
      device_id: done.body.device_id,
      is_guest: false,
    });
  });

  it('registers without logging in when asked to inhibit login', async () => {
    const { request } = await startHarness({ serverName: 'dev.test' });
    const answer = await request('POST', 'register', {
      body: {
        username: 'bot',
        password: 'pw',
        inhibit_login: true,
        auth: { type: 'm.login.dummy' },
      },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.user_id).toBe('@bot:dev.test');
    expect(answer.body.access_token).toBeUndefined();
  });

  it('refuses a taken username and a username outside the grammar', async () => {
    const harness = await startHarness();
    await harness.register('alice');

    const taken = await harness.request('POST', 'register', {
      body: { username: 'alice', password: 'pw', auth: { type: 'm.login.dummy' } },
    });
    expect(taken.status).toBe(400);
    expect(taken.body.errcode).toBe('M_USER_IN_USE');

    const invalid = await harness.request('POST', 'register', {
      body: { username: 'Alice Smith', password: 'pw', auth: { type: 'm.login.dummy' } },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.errcode).toBe('M_INVALID_USERNAME');
    expect(invalid.body.error).toContain('"Alice Smith"');

    const available = await harness.request('GET', 'register/available', {
      query: { username: 'bob' },
    });
    expect(available.body).toEqual({ available: true });
  });

  it('refuses guest registration', async () => {
    const { request } = await startHarness();
    const answer = await request('POST', 'register', { body: {}, query: { kind: 'guest' } });
    expect(answer.status).toBe(403);
    expect(answer.body.errcode).toBe('M_GUEST_ACCESS_FORBIDDEN');
  });
});

describe('login and logout', () => {
  it('offers password login and logs in with a user identifier', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice', 'secret');

    expect((await harness.request('GET', 'login')).body).toEqual({
      flows: [{ type: 'm.login.password' }],
    });
    const login = await harness.request<{
      user_id: string;
      device_id: string;
      well_known: { 'm.homeserver': { base_url: string } };
    }>('POST', 'login', {
      body: {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: 'alice' },
        password: 'secret',
      },
    });
    expect(login.status).toBe(200);
    expect(login.body.user_id).toBe(alice.userId);
    expect(login.body.device_id).not.toBe(alice.deviceId);
    expect(login.body.well_known['m.homeserver'].base_url).toBe(harness.server.url);

    const byFullId = await harness.request('POST', 'login', {
      body: {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: '@alice:localhost' },
        password: 'secret',
      },
    });
    expect(byFullId.status).toBe(200);
  });

  it('refuses a wrong password with 403', async () => {
    const harness = await startHarness();
    await harness.register('alice', 'secret');
    const answer = await harness.request('POST', 'login', {
      body: {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: 'alice' },
        password: 'nope',
      },
    });
    expect(answer.status).toBe(403);
    expect(answer.body.errcode).toBe('M_FORBIDDEN');
  });

  it('refuses a login type it does not offer, naming it', async () => {
    const { request } = await startHarness();
    const answer = await request('POST', 'login', { body: { type: 'm.login.token', token: 'x' } });
    expect(answer.status).toBe(400);
    expect(answer.body.errcode).toBe('M_INVALID_PARAM');
    expect(answer.body.error).toContain('m.login.token');
  });

  it('gives the same device a fresh token on a login with its device id', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice', 'secret');
    const again = await harness.request('POST', 'login', {
      body: {
        type: 'm.login.password',
        user: 'alice',
        password: 'secret',
        device_id: alice.deviceId,
      },
    });
    expect(again.body.device_id).toBe(alice.deviceId);
    expect((await alice.call('GET', 'account/whoami')).status).toBe(401);
  });

  it('ends the token at logout', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    await alice.ok('POST', 'logout', {});

    const after = await alice.call('GET', 'account/whoami');
    expect(after.status).toBe(401);
    expect(after.body.errcode).toBe('M_UNKNOWN_TOKEN');
  });
});

describe('access tokens', () => {
  it('accepts the token as a query parameter', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const answer = await harness.request('GET', 'account/whoami', {
      query: { access_token: alice.token },
    });
    expect(answer.body.user_id).toBe(alice.userId);
  });

  it('answers 401 M_UNKNOWN_TOKEN to an unknown token', async () => {
    const { request } = await startHarness();
    const answer = await request('GET', 'account/whoami', { token: 'not-a-token' });
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({
      errcode: 'M_UNKNOWN_TOKEN',
      error: 'Unknown access token',
      soft_logout: false,
    });
  });

  it('answers 401 M_MISSING_TOKEN when there is no token', async () => {
    const { request } = await startHarness();
    const answer = await request('GET', 'sync');
    expect(answer.status).toBe(401);
    expect(answer.body.errcode).toBe('M_MISSING_TOKEN');
  });
});
