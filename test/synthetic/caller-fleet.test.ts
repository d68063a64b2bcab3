import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { BridgeCrypto } from '../../src/matrix/crypto/index.js';
import { CallerFleet } from '../../src/synthetic/caller-fleet.js';
import { assembleBridge, homeserverForFile, register } from '../matrix/matrix-fixtures.js';

const hs = homeserverForFile();
const { cleanups } = hs;

describe('the caller fleet', () => {
  it('places encrypted calls from child processes that carry audio both ways and end with the caller hangup', async () => {
    const bot = await register(hs.server, `bot${Math.random().toString(36).slice(2, 8)}`);
    const scratch = mkdtempSync(join(tmpdir(), 'vb-fleet-'));
    cleanups.push(() => rmSync(scratch, { recursive: true, force: true }));
    const crypto = await BridgeCrypto.open({
      userId: bot.userId,
      deviceId: bot.deviceId,
      storeDir: join(scratch, 'store'),
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
      homeserverUrl: hs.server.url,
      caPem: hs.server.caPem,
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
    // Every call left its record, as the caller's hangup.
    const records = bridge.audit.recent(10);
    expect(records.map((r) => r.end_reason)).toEqual(Array(4).fill('caller_hangup'));
    expect(new Set(records.map((r) => r.call_id))).toEqual(
      new Set([...reports.map((r) => r.callId), early.callId]),
    );
  });

  it('refuses bad options by name', async () => {
    await expect(
      CallerFleet.start({
        homeserverUrl: hs.server.url,
        botUserId: '@b:x',
        processes: 0,
        callers: 1,
      }),
    ).rejects.toThrow('processes must be an integer of at least 1, got 0');
    await expect(
      CallerFleet.start({
        homeserverUrl: hs.server.url,
        botUserId: '@b:x',
        processes: 2,
        callers: 1,
      }),
    ).rejects.toThrow('callers must be an integer of at least processes (2), got 1');
  });
});
