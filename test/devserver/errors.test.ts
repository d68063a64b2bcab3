import { describe, expect, it } from 'vitest';

import { path, startHarness } from './helpers.js';

describe('error answers', () => {
  it('answers 400 M_NOT_JSON to a body that is not JSON, saying what is wrong', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const answer = await harness.request('POST', 'createRoom', {
      token: alice.token,
      body: '{"name": "unterminated',
    });
    expect(answer.status).toBe(400);
    expect(answer.body.errcode).toBe('M_NOT_JSON');
    expect(answer.body.error).toMatch(/^Content not JSON: .*JSON/);
  });

  it('answers 400 M_BAD_JSON to a body that is JSON but not an object', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const answer = await harness.request('POST', 'createRoom', {
      token: alice.token,
      body: '[1,2]',
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      errcode: 'M_BAD_JSON',
      error: 'Content must be a JSON object, got [1,2]',
    });
  });

  it('names the field and the value of a field of the wrong type', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');

    const name = await alice.call('POST', 'createRoom', { name: 42 });
    expect(name.body).toEqual({ errcode: 'M_BAD_JSON', error: "'name' must be a string, got 42" });
    const invite = await alice.call('POST', 'createRoom', { invite: ['@a:localhost', 7] });
    expect(invite.body.error).toBe("'invite[1]' must be a string, got 7");
    const state = await alice.call('POST', 'createRoom', { initial_state: [{ type: 'x' }] });
    expect(state.body.error).toBe("'initial_state[0].content' is required");
  });

  it('answers 404 M_UNRECOGNIZED for an unknown endpoint and 405 for a wrong method', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');

    const unknown = await alice.call('GET', 'no/such/endpoint');
    expect(unknown.status).toBe(404);
    expect(unknown.body.errcode).toBe('M_UNRECOGNIZED');
    const method = await alice.call('DELETE', 'sync');
    expect(method.status).toBe(405);
    expect(method.body.errcode).toBe('M_UNRECOGNIZED');
  });

  it('answers 413 M_TOO_LARGE to a body over a mebibyte', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const answer = await alice.call('POST', 'keys/upload', {
      one_time_keys: { pad: 'x'.repeat(1 << 20) },
    });
    expect(answer.status).toBe(413);
    expect(answer.body.errcode).toBe('M_TOO_LARGE');
  });

  it('answers M_INVALID_PARAM for a bad query parameter, naming it and its value', async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const timeout = await alice.call('GET', 'sync', undefined, { timeout: '-5' });
    expect(timeout.status).toBe(400);
    expect(timeout.body).toEqual({
      errcode: 'M_INVALID_PARAM',
      error: `'timeout' must be a non-negative integer, got "-5"`,
    });
    const roomId = await alice.createRoom();
    const limit = await alice.call('GET', path`rooms/${roomId}/messages`, undefined, {
      limit: 'all',
    });
    expect(limit.body.error).toContain('limit');
  });
});
