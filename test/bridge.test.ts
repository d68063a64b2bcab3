import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AuditStore } from '../src/audit/audit-store.js';
import { startBridge } from '../src/bridge.js';
import { parseConfig } from '../src/config/load.js';
import { startDevServer, type DevServer } from '../src/devserver/index.js';
import { CallerFleet } from '../src/synthetic/caller-fleet.js';
import { SecurityLog } from '../src/telemetry/security-log.js';
import { EventCollector, bridgeConfigText, dmWith, register } from './matrix/matrix-fixtures.js';
import { assertLoopbackOnly } from './transport/fixtures/loopback-only.js';
import { TestCaller } from './transport/fixtures/test-caller.js';
import { until } from './transport/fixtures/wait.js';
import { scratchFolders } from './scratch-folders.js';

const scratch = scratchFolders();

let server: DevServer;
beforeAll(async () => {
  assertLoopbackOnly();
  server = await startDevServer();
});
afterAll(() => server.close());

describe('the bridge started from its config', () => {
  it('logs in with its password and refuses a plaintext call under the default policy, with a record', async () => {
    const dir = scratch(join(tmpdir(), 'vb-bridge-'));
    const name = `bot${Math.random().toString(36).slice(2, 8)}`;
    const bot = await register(server, name);
    const config = parseConfig(bridgeConfigText(server, bot, name, dir), 'bridge.toml', {
      env: {},
      readFile: () => '',
    });
    const running = await startBridge(config, {
      security: SecurityLog.silent(),
      bridge: pino({ level: 'silent' }),
    });

    const alice = await register(server, `alice${Math.random().toString(36).slice(2, 8)}`);
    const roomId = await dmWith(alice, running.userId);
    const seen = new EventCollector(alice);
    const caller = new TestCaller('alice-config', { payloadType: 111 });
    try {
      // The default policy requires E2EE: a plaintext invite here is refused and recorded.
      await alice.client.sendEvent(roomId, 'm.call.invite', {
        call_id: 'config-call',
        party_id: 'ALICEPHONE',
        version: '1',
        lifetime: 60_000,
        offer: { type: 'offer', sdp: await caller.offer },
      });
      await until(() => seen.of('m.call.reject').length > 0, 'the reject');
      expect(seen.of('m.call.reject')[0]?.content).toMatchObject({
        call_id: 'config-call',
        'org.voicebridge.reason': 'e2ee_required',
      });

      // The admin server, on its own loopback port, shows the refusal.
      const admin = running.admin?.url ?? '';
      expect(admin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await until(async () => (await fetch(`${admin}/readyz`)).status === 200, 'ready');
      const metrics = await (await fetch(`${admin}/metrics`)).text();
      expect(metrics).toContain('voicebridge_calls_denied_total{reason="e2ee_required"} 1');
      expect(await (await fetch(`${admin}/api/calls/config-call`)).json()).toMatchObject({
        state: 'denied',
        call: { end_reason: 'e2ee_required', caller: alice.userId },
      });
    } finally {
      await seen.stop();
      caller.close();
      await running.stop();
    }

    const audit = AuditStore.openReadOnly(join(dir, 'audit.db'));
    try {
      expect(audit.recent(1)[0]).toMatchObject({
        call_id: 'config-call',
        state: 'denied',
        end_reason: 'e2ee_required',
      });
    } finally {
      audit.close();
    }
  });

  it('closes what it opened when it cannot start, so the same store starts cleanly next time', async () => {
    const dir = scratch(join(tmpdir(), 'vb-bridge-'));
    const name = `bot${Math.random().toString(36).slice(2, 8)}`;
    const bot = await register(server, name);
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    const text = bridgeConfigText(server, bot, name, dir);
    const logs = { security: SecurityLog.silent(), bridge: pino({ level: 'silent' }) };
    const read = (admin: string) =>
      parseConfig(text.replace('[admin]\nport = 0', admin), 'bridge.toml', {
        env: {},
        readFile: () => '',
      });
    try {
      await expect(startBridge(read(`[admin]\nport = ${port}`), logs)).rejects.toThrow(
        `admin server cannot listen on 127.0.0.1:${port}`,
      );
    } finally {
      taken.close();
    }
    // The encryption store's lock, the audit store and the media workers were all let go.
    const running = await startBridge(read('[admin]\nport = 0'), logs);
    await running.stop();
  });

  it('sends every live call its encrypted hangup before it closes its crypto at shutdown', async () => {
    // Sends wait on 429s here, so the hangups are still on their way when the calls have ended.
    const limited = await startDevServer({ rateLimit: { messagesPerSecond: 2, burst: 2 } });
    const dir = scratch(join(tmpdir(), 'vb-bridge-'));
    const name = `bot${Math.random().toString(36).slice(2, 8)}`;
    const bot = await register(limited, name);
    const config = parseConfig(
      bridgeConfigText(limited, bot, name, dir, 'rate_limit_calls = 0'),
      'bridge.toml',
      { env: {}, readFile: () => '' },
    );
    const running = await startBridge(config, {
      security: SecurityLog.silent(),
      bridge: pino({ level: 'silent' }),
    });
    const fleet = await CallerFleet.start({
      homeserverUrl: limited.url,
      caPem: limited.caPem,
      botUserId: running.userId,
      processes: 1,
      callers: 3,
    });
    try {
      const placed = fleet.callers.map((caller) =>
        fleet.placeCall({ userId: caller.userId, holdMs: 60_000 }),
      );
      await Promise.all(placed.map((call) => call.media));
      await running.stop();
      for (const call of placed) {
        expect(await call.report).toMatchObject({
          endReason: 'bridge_hangup',
          remoteReason: 'shutdown',
        });
      }
    } finally {
      await fleet.stop();
      await running.stop();
      await limited.close();
    }
  }, 60_000);
});
