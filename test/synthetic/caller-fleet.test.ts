import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startDevServer, type DevServer } from '../../src/devserver/index.js';
import { BridgeCrypto } from '../../src/matrix/crypto/index.js';
import { CallerFleet } from '../../src/synthetic/caller-fleet.js';
import { assembleBridge, register } from '../matrix/matrix-fixtures.js';
import { assertLoopbackOnly } from '../transport/fixtures/loopback-only.js';

let server: DevServer;
const cleanups: Array<() => Promise<void> | void> = [];
beforeAll(async () => {
  assertLoopbackOnly();
  server = await startDevServer();
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await server.close();
});

describe('the caller fleet', () => {
  it('places encrypted calls from child processes that carry audio both ways and end with the caller hangup', async () => {
    const bot = await register(server, `bot${Math.random().toString(36).slice(2, 8)}`);
    const crypto = await BridgeCrypto.open({
      userId: bot.userId,
      deviceId: bot.deviceId,
      storeDir: join(mkdtempSync(join(tmpdir(), 'vb-fleet-')), 'store'),
      key: randomBytes(32),
      send: async (request) =>
        JSON.stringify(
          await bot.client.http.request({
            method: request.method,
            path: request.path,
            body: JSON.parse(request.body) as unknown,
          }),
        ),
    });
    cleanups.push(() => crypto.close());
    const bridge = await assembleBridge({
      bot,
      voice: { require_e2ee: true, rate_limit_calls: 0 },
      crypto,
      tokensPerSecond: 0,
    });
    cleanups.push(bridge.stop);

    const fleet = await CallerFleet.start({
      homeserverUrl: server.url,
      caPem: server.caPem,
      botUserId: bot.userId,
      processes: 2,
      callers: 3,
    });
    cleanups.push(() => fleet.stop());
    expect(fleet.callers).toHaveLength(3);

    const placed = fleet.callers.map((caller) =>
      fleet.placeCall({ userId: caller.userId, holdMs: 2_000 }),
    );
    const reports = await Promise.all(placed.map((call) => call.report));
    for (const report of reports) {
      expect(report).toMatchObject({ ok: true, endReason: 'caller_hangup', failure: undefined });
      expect(report.inviteToAnswerMs).toBeGreaterThan(0);
      expect(report.inviteToFirstMediaMs).toBeGreaterThan(report.inviteToAnswerMs ?? 0);
      expect(report.ice.localCandidates).toBeGreaterThan(0);
      expect(report.ice.remoteCandidates).toBeGreaterThan(0);
      expect(report.packets.sent).toBeGreaterThan(10);
      expect(report.packets.received).toBeGreaterThan(5);
      expect(report.packets.lost).toBeLessThanOrEqual(report.packets.expected * 0.05);
    }
    expect(fleet.liveCalls).toBe(0);

    // An early hangup from the parent ends the call with `stopped`; the bridge records it.
    const early = fleet.placeCall({ holdMs: 60_000 });
    await early.media;
    fleet.hangup(early.callId);
    expect(await early.report).toMatchObject({ ok: false, endReason: 'stopped' });

    await fleet.stop();
    for (let i = 0; i < 100 && bridge.host.liveCalls > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Every call left its record. (Which reason it carries is the bridge's race between the
    // hangup event and the caller's closed connection, not the callers' doing.)
    const records = bridge.audit.recent(10);
    expect(records).toHaveLength(4);
    expect(new Set(records.map((r) => r.call_id))).toEqual(
      new Set([...reports.map((r) => r.callId), early.callId]),
    );
  });

  it('refuses bad options by name', async () => {
    await expect(
      CallerFleet.start({ homeserverUrl: server.url, botUserId: '@b:x', processes: 0, callers: 1 }),
    ).rejects.toThrow('processes must be an integer of at least 1, got 0');
    await expect(
      CallerFleet.start({ homeserverUrl: server.url, botUserId: '@b:x', processes: 2, callers: 1 }),
    ).rejects.toThrow('callers must be an integer of at least processes (2), got 1');
  });
});
