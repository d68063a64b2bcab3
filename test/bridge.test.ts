import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AuditStore } from '../src/audit/audit-store.js';
import { startBridge } from '../src/bridge.js';
import { parseConfig } from '../src/config/load.js';
import { startDevServer, type DevServer } from '../src/devserver/index.js';
import { SecurityLog } from '../src/telemetry/security-log.js';
import { EventCollector, bridgeConfigText, dmWith, register } from './matrix/matrix-fixtures.js';
import { assertLoopbackOnly } from './transport/fixtures/loopback-only.js';
import { TestCaller } from './transport/fixtures/test-caller.js';
import { until } from './transport/fixtures/wait.js';

let server: DevServer;
beforeAll(async () => {
  assertLoopbackOnly();
  server = await startDevServer();
});
afterAll(() => server.close());

describe('the bridge started from its config', () => {
  it('logs in with its password and refuses a plaintext call under the default policy, with a record', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vb-bridge-'));
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
});
