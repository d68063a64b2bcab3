import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { Logger } from 'pino';

import { AdminServer } from './admin/admin-server.js';
import { AuditStore } from './audit/audit-store.js';
import { CallHost } from './calls/call-host.js';
import { createPolicyCore, type PolicyCore } from './calls/policy-core.js';
import { systemClock } from './clock.js';
import type { Config } from './config/types.js';
import { agentSpecFrom } from './engine/agent-spec.js';
import { MediaEngine } from './engine/media-engine.js';
import { logInBot } from './matrix/bot-login.js';
import { BridgeCrypto, loadOrCreateStoreKey } from './matrix/crypto/index.js';
import { MatrixBridge } from './matrix/matrix-bridge.js';
import { MatrixHttp } from './matrix/matrix-http.js';
import { SyncTokenStore } from './matrix/sync-token-store.js';
import { HomeserverTurnServers } from './matrix/turn-servers.js';
import { CallSignaling } from './matrix/voip/call-signaling.js';
import { BridgeMetrics } from './telemetry/metrics.js';
import type { SecurityLog } from './telemetry/security-log.js';

/** A running bridge and how to stop it. */
export interface RunningBridge {
  userId: string;
  deviceId: string;
  core: PolicyCore;
  host: CallHost;
  engine: MediaEngine;
  metrics: BridgeMetrics;
  /** The admin HTTP server, when `admin.enabled`. */
  admin: AdminServer | undefined;
  /** Why the bridge cannot take calls now; empty when it can. */
  notReady(): string[];
  /** Stops taking calls, ends every live call with `shutdown`, and closes everything. */
  stop(): Promise<void>;
}

/**
 * Starts the whole bridge from a validated config: logs the bot in (keeping its session,
 * sync position and encryption store in `matrix.store_dir`), opens the audit store, the policy
 * core with its enforcement timer, the media engine, the call host and the Matrix side.
 */
export async function startBridge(
  config: Config,
  logs: { security: SecurityLog; bridge: Logger },
): Promise<RunningBridge> {
  const { matrix: m, media } = config;
  const storeDir = m.store_dir;
  const http = new MatrixHttp({
    baseUrl: m.homeserver_url,
    ca: m.ca_file === '' ? undefined : readFileSync(m.ca_file, 'utf8'),
  });
  const session = await logInBot(http, {
    userId: m.user_id,
    accessToken: m.access_token === '' ? undefined : m.access_token,
    password: m.password === '' ? undefined : m.password,
    sessionFile: join(storeDir, 'session.json'),
  });
  const { client, userId, deviceId } = session;
  logs.bridge.info(
    { event: 'matrix_logged_in', user_id: userId, device_id: deviceId },
    'logged in',
  );

  // The store's key lives beside the store folder, never inside it.
  const crypto = await BridgeCrypto.open({
    userId,
    deviceId,
    storeDir: join(storeDir, 'crypto'),
    key: await loadOrCreateStoreKey(join(storeDir, 'crypto.key')),
    send: async (request) =>
      JSON.stringify(
        await client.http.request({
          method: request.method,
          path: request.path,
          body: JSON.parse(request.body) as unknown,
        }),
      ),
  });

  const audit = AuditStore.open(config.audit.path);
  const core = createPolicyCore(config.voice, {
    clock: systemClock,
    log: logs.security,
    audit,
    callee: userId,
  });
  const stopEnforcement = core.startEnforcement();
  const engine = await MediaEngine.start({
    sessions: core.sessions,
    workers: media.workers,
    tickMs: media.tick_ms,
    agent: agentSpecFrom(config.agent),
  });
  const turn = media.ice_servers_from_homeserver ? new HomeserverTurnServers(client) : undefined;
  await turn?.start();
  const host = new CallHost(
    core,
    engine,
    media,
    turn === undefined ? undefined : () => turn.current(),
  );

  const log = (event: string, fields: Record<string, string | number | boolean>): void =>
    logs.bridge.info({ event, ...fields }, event);
  const matrix = new MatrixBridge({
    client,
    userId,
    tokens: new SyncTokenStore(join(storeDir, 'sync-token')),
    policy: () => core.enforcer.policy,
    crypto,
    log,
  });
  matrix.signaling = new CallSignaling({
    host,
    userId,
    partyId: deviceId,
    send: (roomId, type, content) => matrix.send(roomId, type, content),
    roomMembers: (roomId) => matrix.roomMembers(roomId),
    signalingTls: http.tls,
    clock: systemClock,
    log,
  });
  matrix.start();

  let stopping: Promise<void> | undefined;
  const notReady = (): string[] => {
    const reasons: string[] = [];
    if (stopping !== undefined) reasons.push('stopping');
    if (!matrix.syncing) reasons.push('matrix_sync_not_healthy');
    if (engine.loops === 0) reasons.push('no_media_loops');
    if (core.gate.pendingAuditRecords > 0) reasons.push('audit_records_pending');
    return reasons;
  };
  const metrics = new BridgeMetrics({
    gate: core.gate,
    sessions: core.sessions,
    log: logs.security,
    policy: () => core.enforcer.policy,
    engine,
  });
  let admin: AdminServer | undefined;

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await matrix.stop();
      await host.shutdown('shutdown');
      await engine.shutdown();
      stopEnforcement();
      turn?.stop();
      await crypto.close();
      await admin?.close();
      metrics.close();
      audit.close();
      http.close();
    })();
    return stopping;
  };

  const { admin: adminConfig } = config;
  if (adminConfig.enabled) {
    try {
      admin = await AdminServer.start({
        bindAddress: adminConfig.bind_address,
        port: adminConfig.port,
        token: adminConfig.token,
        metrics,
        gate: core.gate,
        sessions: core.sessions,
        audit,
        clock: systemClock,
        notReady,
      });
    } catch (error) {
      await stop();
      throw new Error(
        `admin server cannot listen on ${adminConfig.bind_address}:${adminConfig.port}: ${String(error)}`,
      );
    }
    logs.bridge.info({ event: 'admin_listening', url: admin.url }, 'admin listening');
  }
  return { userId, deviceId, core, host, engine, metrics, admin, notReady, stop };
}
