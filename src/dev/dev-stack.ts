import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { pino, type Logger } from 'pino';

import { startBridge, type RunningBridge } from '../bridge.js';
import type { Config } from '../config/types.js';
import { startDevServer, type DevServer } from '../devserver/index.js';
import { SecurityLog } from '../telemetry/security-log.js';
import { DevAccounts, type DevAccount } from './dev-accounts.js';
import { checkDevOverrides, devConfig, type DevOverrides } from './dev-config.js';
import { PageServer, type PageSession } from './page-server.js';

/** The bot's local part on the development homeserver. */
const BOT = 'voicebridge';
/** Options of {@link startDevStack}. */
export interface DevStackOptions {
  /**
   * Where the bridge keeps its audit store, kept across runs; a fresh temporary folder, removed
   * by `stop`, when not given. The bot's Matrix store is temporary either way: the homeserver
   * it belongs to lives in memory and is gone at exit.
   */
  dataDir?: string;
  /** TOML settings over the development defaults (see DEV_DEFAULTS). */
  overrides?: DevOverrides;
  /** Local parts of the demo callers, each given an encrypted room with the bot. */
  callers?: readonly string[];
  /** The page server's port on 127.0.0.1; 0 takes a free one. */
  port?: number;
  /** Where the bridge and the homeserver log; nowhere by default. */
  logger?: Logger;
  /** Where security events go; nowhere by default. */
  security?: SecurityLog;
}

/** A demo caller: its account and its encrypted room with the bot. */
export interface DevCaller {
  userId: string;
  roomId: string;
}

/** A running development stack. */
export interface DevStack {
  readonly homeserver: DevServer;
  readonly bridge: RunningBridge;
  readonly config: Config;
  readonly dataDir: string;
  readonly botUserId: string;
  /** Demo callers by local part, in the order given. */
  readonly callers: ReadonlyMap<string, DevCaller>;
  /** The demo page, `http://127.0.0.1:PORT/` (add `?caller=NAME` for another caller). */
  readonly pageUrl: string;
  /** Stops the page server, the bridge (hanging up live calls) and the homeserver. */
  stop(): Promise<void>;
}

/**
 * Starts everything `voicebridge dev` runs, on loopback: the development homeserver over
 * HTTPS, the bot and the demo callers, an encrypted direct room between the bot and each
 * caller, the bridge (echo agent, the default policy unless overridden), and the page server.
 * A bad override is a ConfigError, thrown before anything starts.
 */
export async function startDevStack(options: DevStackOptions = {}): Promise<DevStack> {
  checkDevOverrides(options.overrides);
  const logger = options.logger ?? pino({ level: 'silent' });
  const security = options.security ?? SecurityLog.silent();
  const callerNames = options.callers ?? ['demo'];

  const ownDir = options.dataDir === undefined;
  const dataDir =
    options.dataDir === undefined
      ? mkdtempSync(join(tmpdir(), 'voicebridge-dev-'))
      : resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const storeDir = mkdtempSync(join(tmpdir(), 'voicebridge-dev-store-'));

  const cleanups: Array<() => Promise<void> | void> = [];
  const stop = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    rmSync(storeDir, { recursive: true, force: true });
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const homeserver = await startDevServer({
      log: (level, event, fields) => logger[level]({ event, ...fields }, event),
    });
    cleanups.push(() => homeserver.close());

    const accounts = new DevAccounts(homeserver.url, homeserver.caPem);
    const bot = await accounts.register(BOT);
    const callerAccounts = new Map<string, DevAccount>();
    const callers = new Map<string, DevCaller>();
    for (const name of callerNames) {
      const account = await accounts.register(name);
      callerAccounts.set(name, account);
      callers.set(name, {
        userId: account.userId,
        roomId: await accounts.encryptedDirectRoom(bot, account),
      });
    }

    const caFile = join(storeDir, 'homeserver-ca.pem');
    writeFileSync(caFile, homeserver.caPem, { mode: 0o600 });
    const config = devConfig(
      {
        homeserverUrl: homeserver.url,
        botUserId: bot.userId,
        botPassword: bot.password,
        caFile,
        storeDir: join(storeDir, 'store'),
        auditPath: join(dataDir, 'audit.db'),
      },
      options.overrides,
    );
    const bridge = await startBridge(config, { security, bridge: logger });
    cleanups.push(() => bridge.stop());

    const session = async (name: string): Promise<PageSession | undefined> => {
      const key = name === '' ? callerNames[0] : name;
      const account = key === undefined ? undefined : callerAccounts.get(key);
      const caller = key === undefined ? undefined : callers.get(key);
      if (account === undefined || caller === undefined) return undefined;
      const login = await accounts.login(account, 'voicebridge dev page');
      return {
        user_id: login.userId,
        device_id: login.deviceId,
        access_token: login.accessToken,
        room_id: caller.roomId,
        bot_user_id: bot.userId,
      };
    };
    const page = await PageServer.start({
      port: options.port ?? 0,
      homeserverUrl: homeserver.url,
      homeserverCa: homeserver.caPem,
      adminUrl: bridge.admin?.url,
      adminToken: config.admin.token,
      session,
    });
    cleanups.push(() => page.close());

    return {
      homeserver,
      bridge,
      config,
      dataDir,
      botUserId: bot.userId,
      callers,
      pageUrl: page.url,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
