import { AdminServer } from '../../src/admin/admin-server.js';
import { BridgeMetrics } from '../../src/telemetry/metrics.js';
import { coreWith } from '../calls/core-fixture.js';

type Core = ReturnType<typeof coreWith>;

/** The bridge's metrics over a test policy core. */
export function metricsFor(core: Core): BridgeMetrics {
  return new BridgeMetrics({
    gate: core.gate,
    sessions: core.sessions,
    log: core.log,
    policy: () => core.enforcer.policy,
  });
}

const started: AdminServer[] = [];

/** An admin server on a free loopback port over `core`; `closeAdminServers` stops it. */
export async function adminFor(
  core: Core,
  options: { token?: string; notReady?: () => string[] } = {},
): Promise<AdminServer> {
  const server = await AdminServer.start({
    bindAddress: '127.0.0.1',
    port: 0,
    token: options.token ?? '',
    metrics: metricsFor(core),
    gate: core.gate,
    sessions: core.sessions,
    audit: core.audit,
    clock: core.clock.now,
    notReady: options.notReady ?? (() => []),
  });
  started.push(server);
  return server;
}

/** Stops every admin server the tests started. */
export async function closeAdminServers(): Promise<void> {
  for (const server of started.splice(0)) await server.close();
}
