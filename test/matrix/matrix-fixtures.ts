import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll } from 'vitest';

import { AuditStore } from '../../src/audit/audit-store.js';
import { CallHost } from '../../src/calls/call-host.js';
import { createPolicyCore } from '../../src/calls/policy-core.js';
import { systemClock } from '../../src/clock.js';
import { defaultConfig } from '../../src/config/load.js';
import type { VoiceConfig } from '../../src/config/types.js';
import { MediaEngine } from '../../src/engine/media-engine.js';
import type { BridgeCrypto } from '../../src/matrix/crypto/index.js';
import { MatrixBridge } from '../../src/matrix/matrix-bridge.js';
import { MatrixClient } from '../../src/matrix/matrix-client.js';
import { SyncTokenStore } from '../../src/matrix/sync-token-store.js';
import { CallSignaling } from '../../src/matrix/voip/call-signaling.js';
import { SecurityLog } from '../../src/telemetry/security-log.js';
import { MatrixHttp } from '../../src/matrix/matrix-http.js';
import type { RawEvent } from '../../src/matrix/sync-response.js';
import { startDevServer, type DevServer } from '../../src/devserver/index.js';
import { registerAccount } from '../../src/synthetic/register-account.js';
import { assertLoopbackOnly } from '../transport/fixtures/loopback-only.js';

/** A registered account on the development server, with its own client. */
export interface Account {
  userId: string;
  deviceId: string;
  accessToken: string;
  client: MatrixClient;
}

/** Registers `username` (the dummy auth flow real clients use) and returns a logged-in client. */
export async function register(server: DevServer, username: string): Promise<Account> {
  const http = new MatrixHttp({ baseUrl: server.url, ca: server.caPem });
  const session = await registerAccount(http, username, `${username}-password`);
  return { ...session, client: new MatrixClient(http) };
}

/** Collects the room timeline events one account sees, through its own sync. */
export class EventCollector {
  readonly events: Array<RawEvent & { room_id: string }> = [];
  #since: string | undefined;
  #running = true;
  readonly #done: Promise<void>;

  constructor(readonly account: Account) {
    this.#done = this.#run();
  }

  async #run(): Promise<void> {
    while (this.#running) {
      try {
        const sync = await this.account.client.sync({
          since: this.#since,
          timeoutMs: this.#since ? 200 : 0,
        });
        this.#since = sync.next_batch;
        for (const [roomId, room] of Object.entries(sync.rooms?.join ?? {})) {
          for (const event of room.timeline?.events ?? [])
            this.events.push({ ...event, room_id: roomId });
        }
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /** Events of `type` from someone else, in order. */
  of(type: string): Array<RawEvent & { room_id: string }> {
    return this.events.filter((e) => e.type === type && e.sender !== this.account.userId);
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#done;
  }
}

/**
 * A whole bridge for `bot`: policy core, one media worker with the echo agent, call host,
 * Matrix sync and call signaling, started. `stop` ends it (idempotent).
 */
export async function assembleBridge(options: {
  bot: Account;
  voice?: Partial<VoiceConfig>;
  tokenFile?: string;
  crypto?: BridgeCrypto;
  tokensPerSecond?: number;
}) {
  const { bot } = options;
  const tokenFile =
    options.tokenFile ?? join(mkdtempSync(join(tmpdir(), 'vb-sync-')), 'sync-token');
  const config = defaultConfig();
  const audit = AuditStore.open(':memory:');
  const core = createPolicyCore(
    { ...config.voice, ...options.voice },
    { clock: systemClock, log: SecurityLog.silent(), audit, callee: bot.userId },
  );
  const engine = await MediaEngine.start({
    sessions: core.sessions,
    workers: 1,
    tickMs: 20,
    agent: { kind: 'echo', delayMs: 0, tokensPerSecond: options.tokensPerSecond ?? 50 },
  });
  const host = new CallHost(core, engine, config.media);
  const logged: string[] = [];
  const matrix = new MatrixBridge({
    client: bot.client,
    userId: bot.userId,
    tokens: new SyncTokenStore(tokenFile),
    policy: () => core.enforcer.policy,
    crypto: options.crypto,
    log: (event) => logged.push(event),
  });
  matrix.signaling = new CallSignaling({
    host,
    userId: bot.userId,
    partyId: bot.deviceId,
    send: (roomId, type, content) => matrix.send(roomId, type, content),
    roomMembers: (roomId) => matrix.roomMembers(roomId),
    signalingTls: bot.client.http.tls,
    clock: systemClock,
    log: (event) => logged.push(event),
  });
  matrix.start();
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await matrix.stop();
    await host.shutdown();
    await engine.shutdown();
  };
  return { bot, core, host, matrix, logged, audit, tokenFile, stop };
}

/**
 * `caller` opens a DM with `botUserId` (encrypted when asked) and waits until the bot has
 * joined. Returns the room id.
 */
export async function dmWith(
  caller: Account,
  botUserId: string,
  encrypted = false,
): Promise<string> {
  const { room_id: roomId } = await caller.client.raw<{ room_id: string }>(
    'POST',
    '/_matrix/client/v3/createRoom',
    {
      preset: 'trusted_private_chat',
      invite: [botUserId],
      is_direct: true,
      initial_state: encrypted
        ? [
            {
              type: 'm.room.encryption',
              state_key: '',
              content: { algorithm: 'm.megolm.v1.aes-sha2' },
            },
          ]
        : [],
    },
  );
  for (let i = 0; i < 200; i++) {
    if ((await caller.client.joinedMembers(roomId)).includes(botUserId)) return roomId;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${botUserId} never joined ${roomId}`);
}

/** A config file's text for a bridge logged in as `bot` (registered as `name`) on `server`. */
export function bridgeConfigText(
  server: DevServer,
  bot: Account,
  name: string,
  dir: string,
  voice = '',
): string {
  writeFileSync(join(dir, 'ca.pem'), server.caPem);
  return `
[voice]
${voice}
[matrix]
homeserver_url = "${server.url}"
user_id = "${bot.userId}"
password = "${name}-password"
ca_file = "${join(dir, 'ca.pem')}"
store_dir = "${join(dir, 'store')}"
[media]
workers = 1
[audit]
path = "${join(dir, 'audit.db')}"
[admin]
port = 0
`;
}

/**
 * One development homeserver for a test file (checking first that the file runs on loopback
 * only), and clean-ups that run, latest first, before it closes. Call once at the top.
 */
export function homeserverForFile(): {
  readonly server: DevServer;
  readonly cleanups: Array<() => Promise<void> | void>;
} {
  let server: DevServer | undefined;
  const cleanups: Array<() => Promise<void> | void> = [];
  beforeAll(async () => {
    assertLoopbackOnly();
    server = await startDevServer();
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await server?.close();
  });
  return {
    get server(): DevServer {
      if (server === undefined) throw new Error('the homeserver starts in beforeAll');
      return server;
    },
    cleanups,
  };
}
