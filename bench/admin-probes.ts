import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';

import { AdminServer } from '../src/admin/admin-server.js';
import { AuditStore } from '../src/audit/audit-store.js';
import { createPolicyCore } from '../src/calls/policy-core.js';
import { systemClock } from '../src/clock.js';
import { defaultConfig } from '../src/config/load.js';
import { BridgeMetrics } from '../src/telemetry/metrics.js';
import { SecurityLog } from '../src/telemetry/security-log.js';

/**
 * Measures what a client of the admin server can make the bridge's main thread pay: how long
 * `/api/report` (with and without `verify=true`) stalls the event loop over a store of
 * `ADMIN_PROBE_RECORDS` denied calls, and what `ADMIN_PROBE_CONNECTIONS` half-sent requests
 * hold. Loopback only. Prints one line per figure.
 */
async function main(): Promise<void> {
  const records = Number(process.env.ADMIN_PROBE_RECORDS ?? 100_000);
  const connections = Number(process.env.ADMIN_PROBE_CONNECTIONS ?? 3_000);
  const voice = { ...defaultConfig().voice, blocked_users: ['@mallory:example.org'] };
  const log = SecurityLog.silent();
  const audit = AuditStore.open(':memory:');
  const core = createPolicyCore(voice, {
    clock: systemClock,
    log,
    audit,
    callee: '@bridge:example.org',
  });
  const metrics = new BridgeMetrics({
    gate: core.gate,
    sessions: core.sessions,
    log,
    policy: () => core.enforcer.policy,
  });
  const admin = await AdminServer.start({
    bindAddress: '127.0.0.1',
    port: 0,
    token: '',
    metrics,
    gate: core.gate,
    sessions: core.sessions,
    audit,
    clock: systemClock,
    notReady: () => [],
  });

  for (let i = 0; i < records; i++) {
    core.gate.start({
      callId: `probe-${i}`,
      userId: '@mallory:example.org',
      roomId: '!room:example.org',
      signalingEncrypted: true,
      signalingTls: true,
    });
  }
  for (const query of ['/api/report', '/api/report?verify=true']) {
    for (const method of ['GET', 'HEAD']) {
      let last = performance.now();
      let stall = 0;
      const ticker = setInterval(() => {
        const now = performance.now();
        stall = Math.max(stall, now - last);
        last = now;
      }, 5);
      const started = performance.now();
      const response = await fetch(admin.url + query, { method });
      await response.arrayBuffer();
      clearInterval(ticker);
      const took = performance.now() - started;
      console.log(
        `${method} ${query} over ${records} records: ${response.status} in ${took.toFixed(0)} ms, ` +
          `longest event-loop stall ${stall.toFixed(0)} ms`,
      );
    }
  }

  const fds = (): number => readdirSync('/proc/self/fd').length;
  const fdsBefore = fds();
  const rssBefore = process.memoryUsage().rss;
  const port = Number(new URL(admin.url).port);
  const sockets: Socket[] = [];
  for (let i = 0; i < connections; i++) {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    sockets.push(socket);
  }
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const open = sockets.filter((s) => s.readyState === 'open').length;
  console.log(
    `${connections} half-sent requests: ${open} open after 3 s, descriptors ${fdsBefore} -> ${fds()} ` +
      `(client and server ends), rss +${((process.memoryUsage().rss - rssBefore) / 1e6).toFixed(1)} MB`,
  );
  for (const socket of sockets) socket.destroy();

  await admin.close();
  metrics.close();
  audit.close();
}

await main();
