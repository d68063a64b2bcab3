import { afterEach, describe, expect, it } from 'vitest';

import { AdminServer } from '../../src/admin/admin-server.js';
import { F64 } from '../../src/engine/slot-table.js';
import { coreWith } from '../calls/core-fixture.js';
import { callFrom } from '../policy/helpers.js';
import { adminFor, closeAdminServers, metricsFor } from './admin-fixture.js';

afterEach(closeAdminServers);

async function adminWith(
  options: { token?: string; notReady?: () => string[] } = {},
  voice: Parameters<typeof coreWith>[0] = {},
) {
  const core = coreWith({ blocked_users: ['@mallory:example.org'], ...voice });
  const server = await adminFor(core, options);
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(server.url + path, { headers });
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    return {
      status: response.status,
      headers: response.headers,
      text,
      json: type.startsWith('application/json')
        ? (JSON.parse(text) as Record<string, unknown>)
        : {},
    };
  };
  return { core, server, get };
}

/** The value of one sample line of a Prometheus text page, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('admin HTTP', () => {
  it('lists live calls with their usage, limits and TTLs', async () => {
    const { core, get } = await adminWith({}, { default_token_limit: 500 });
    const result = core.gate.start(callFrom('@alice:example.org', '!a:example.org'));
    if (!result.admitted) throw new Error(result.reason);
    const { index } = result.session.handle;
    core.slots.set(index, F64.inputTokens, 40);
    core.slots.set(index, F64.outputTokens, 2);
    core.clock.advance(5_000);

    const { status, json } = await get('/api/calls');
    expect(status).toBe(200);
    expect(json).toMatchObject({ count: 1, capacity: 10 });
    expect((json.calls as unknown[])[0]).toMatchObject({
      call_id: result.session.callId,
      user_id: '@alice:example.org',
      room_id: '!a:example.org',
      policy_version: core.enforcer.policy.version,
      duration_ms: 5_000,
      duration_limit_ms: 30 * 60_000,
      tokens_used: 42,
      input_tokens: 40,
      output_tokens: 2,
      token_limit: 500,
      hard_stop: true,
      ttl_hard_stop: true,
      // The idle TTL counts from the last voiced audio, here the start.
      ttl_remaining_ms: 10 * 60_000 - 5_000,
      max_ttl_remaining_ms: 60 * 60_000 - 5_000,
      stop_reason: null,
    });
  });

  it('shows one call live, then from its audit record once it ended, and 404 for none', async () => {
    const { core, get } = await adminWith();
    const result = core.gate.start(callFrom());
    if (!result.admitted) throw new Error(result.reason);
    const path = `/api/calls/${encodeURIComponent(result.session.callId)}`;
    expect((await get(path)).json).toMatchObject({ state: 'live' });

    core.gate.end(result.session, { reason: 'budget_exceeded' });
    const ended = await get(path);
    expect(ended.json).toMatchObject({
      state: 'ended',
      call: { call_id: result.session.callId, end_reason: 'budget_exceeded' },
    });
    expect((await get('/api/calls')).json).toMatchObject({ count: 0 });

    expect((await get('/api/calls/no-such-call')).status).toBe(404);
    const bad = await get('/api/calls/%E0%A4%A');
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: 'bad_call_id' });
  });

  it('counts calls started, ended and denied by reason, with the reason cut to its code', async () => {
    const { core, get } = await adminWith();
    core.gate.start(callFrom('@mallory:example.org'));
    const first = core.gate.start(callFrom());
    const second = core.gate.start(callFrom());
    if (!first.admitted || !second.admitted) throw new Error('not admitted');
    core.clock.advance(3_000);
    core.gate.end(first.session, { reason: 'caller_hangup:user_busy' });
    core.gate.end(second.session, { reason: 'budget_exceeded' });

    const { status, text, headers } = await get('/metrics');
    expect(status).toBe(200);
    expect(headers.get('content-type')).toContain('text/plain');
    expect(sample(text, 'voicebridge_calls_started_total')).toBe(2);
    expect(sample(text, 'voicebridge_calls_denied_total{reason="user_blocked"}')).toBe(1);
    expect(sample(text, 'voicebridge_calls_ended_total{reason="caller_hangup"}')).toBe(1);
    expect(sample(text, 'voicebridge_calls_ended_total{reason="budget_exceeded"}')).toBe(1);
    expect(sample(text, 'voicebridge_call_duration_seconds_count')).toBe(2);
    expect(sample(text, 'voicebridge_call_duration_seconds_sum')).toBe(6);
    expect(sample(text, 'voicebridge_active_calls')).toBe(0);
    expect(sample(text, 'voicebridge_slots_used')).toBe(0);
    expect(sample(text, 'voicebridge_slots_capacity')).toBe(10);
    expect(
      sample(text, 'voicebridge_thread_memory_bytes{thread="main",kind="heap_used"}'),
    ).toBeGreaterThan(0);
  });

  it('counts packets of live calls at each scrape, and the rest when a call closes', async () => {
    const { core, get } = await adminWith();
    const result = core.gate.start(callFrom());
    if (!result.admitted) throw new Error(result.reason);
    const { index } = result.session.handle;
    core.slots.set(index, F64.packetsIn, 100);
    core.slots.set(index, F64.packetsLost, 2);
    let text = (await get('/metrics')).text;
    expect(sample(text, 'voicebridge_media_packets_received_total')).toBe(100);

    core.slots.set(index, F64.packetsIn, 150);
    core.slots.set(index, F64.packetsLost, 3);
    core.gate.end(result.session, { reason: 'caller_hangup' });
    text = (await get('/metrics')).text;
    expect(sample(text, 'voicebridge_media_packets_received_total')).toBe(150);
    expect(sample(text, 'voicebridge_media_packets_lost_total')).toBe(3);
  });

  it('needs the bearer token for everything but the health checks once one is set', async () => {
    const { get } = await adminWith({ token: 's3cret-token' });
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(200);
    const none = await get('/metrics');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect((await get('/api/calls', { Authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await get('/api/calls', { Authorization: 's3cret-token' })).status).toBe(401);
    expect((await get('/api/calls', { Authorization: 'Bearer s3cret-token' })).status).toBe(200);
  });

  it('refuses to listen away from loopback without a token', async () => {
    const core = coreWith();
    const metrics = metricsFor(core);
    await expect(
      AdminServer.start({
        bindAddress: '0.0.0.0',
        port: 0,
        token: '',
        metrics,
        gate: core.gate,
        sessions: core.sessions,
        audit: core.audit,
        clock: core.clock.now,
        notReady: () => [],
      }),
    ).rejects.toThrow(/admin\.bind_address "0\.0\.0\.0" is not loopback: admin\.token/);
  });

  it('says why it is not ready', async () => {
    let reasons = ['matrix_sync_not_healthy'];
    const { get } = await adminWith({ notReady: () => reasons });
    expect(await get('/readyz')).toMatchObject({
      status: 503,
      json: { status: 'not_ready', reasons: ['matrix_sync_not_healthy'] },
    });
    reasons = [];
    expect(await get('/readyz')).toMatchObject({ status: 200, json: { status: 'ready' } });
  });

  it('serves the security report, and names a bad query parameter with its value', async () => {
    const { core, get } = await adminWith();
    core.gate.start(callFrom('@mallory:example.org'));
    const report = await get('/api/report?since=1h');
    expect(report.status).toBe(200);
    expect(report.json).toMatchObject({
      calls: { total: 1, denied: 1 },
      denials_by_reason: [{ reason: 'user_blocked', count: 1 }],
    });

    const since = await get('/api/report?since=yesterday-ish');
    expect(since.status).toBe(400);
    expect(since.json).toMatchObject({ error: 'bad_since' });
    expect(since.json.message).toContain('"yesterday-ish"');
    expect((await get('/api/report?verify=true')).json).toMatchObject({
      error: 'verify_not_offered',
    });
    expect((await get('/api/report?format=csv')).json).toMatchObject({ error: 'bad_query' });
  });

  it('makes the report again only once the last one is two seconds old', async () => {
    const { core, get } = await adminWith();
    core.gate.start(callFrom('@mallory:example.org'));
    expect((await get('/api/report')).json).toMatchObject({ calls: { denied: 1 } });
    core.gate.start(callFrom('@mallory:example.org'));
    expect((await get('/api/report')).json).toMatchObject({ calls: { denied: 1 } });
    core.clock.advance(2_000);
    expect((await get('/api/report')).json).toMatchObject({ calls: { denied: 2 } });
  });

  it('answers only GET and HEAD, and 404 for unknown routes', async () => {
    const { server, get } = await adminWith();
    const post = await fetch(`${server.url}/api/calls`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect((await get('/nope')).json).toMatchObject({ error: 'not_found' });
  });
});
