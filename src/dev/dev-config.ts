import { readFileSync, statSync } from 'node:fs';

import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';

import { ConfigError, parseConfig, type SecretSources } from '../config/load.js';
import type { Config } from '../config/types.js';

/**
 * What `voicebridge dev` runs with before any `--config` file: the default policy and the
 * echo agent, one media worker, and the admin server on a free loopback port (the page
 * reaches it through its own server).
 */
export const DEV_DEFAULTS = `
[media]
workers = 1

[admin]
port = 0
`;

/** Keys the development stack sets itself; an override file may not set them. */
const OWNED_KEYS = ['matrix', 'audit.path'];

/** What the development stack fills in: its homeserver, bot account and folders. */
export interface DevConfigValues {
  homeserverUrl: string;
  botUserId: string;
  botPassword: string;
  caFile: string;
  storeDir: string;
  auditPath: string;
}

/** A TOML text that overrides the development defaults, and the name errors give it. */
export interface DevOverrides {
  text: string;
  source: string;
}

/**
 * Secrets of an override file (`admin.token_file`) come from small regular files only; the
 * environment's secrets are not read: they belong to a real bridge, not to this one.
 */
const DEV_SECRETS: SecretSources = {
  env: {},
  readFile: (path) => {
    const stats = statSync(path);
    if (!stats.isFile() || stats.size > 64 * 1024) throw new Error('not a small regular file');
    return readFileSync(path, 'utf8');
  },
};

/**
 * The effective config of the development bridge: the defaults, then the overrides, then the
 * stack's own values. Throws ConfigError naming the override file and each bad key.
 */
export function devConfig(values: DevConfigValues, overrides?: DevOverrides): Config {
  const source = overrides?.source ?? '(voicebridge dev defaults)';
  const merged = parseToml(DEV_DEFAULTS) as Table;
  if (overrides !== undefined) {
    // The file on its own first: every error in it at once, worded as `check-config` words it.
    parseConfig(overrides.text, source, DEV_SECRETS);
    const raw = parseToml(overrides.text) as Table;
    const owned = OWNED_KEYS.filter((key) => has(raw, key.split('.')));
    if (owned.length > 0) {
      throw new ConfigError(
        source,
        owned.map((key) => ({
          key,
          message: 'is set by voicebridge dev (its own homeserver, bot and folders): remove it',
        })),
      );
    }
    mergeInto(merged, raw);
  }
  merged.matrix = {
    homeserver_url: values.homeserverUrl,
    user_id: values.botUserId,
    password: values.botPassword,
    ca_file: values.caFile,
    store_dir: values.storeDir,
  };
  const audit = isTable(merged.audit) ? merged.audit : {};
  merged.audit = { ...audit, path: values.auditPath };
  return parseConfig(stringifyToml(merged), source, DEV_SECRETS);
}

type Table = Record<string, unknown>;

function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function has(table: Table, path: string[]): boolean {
  const [first, ...rest] = path;
  if (first === undefined || !Object.hasOwn(table, first)) return false;
  const value = table[first];
  return rest.length === 0 || (isTable(value) && has(value, rest));
}

/** Merges `from` into `into`, table by table; any other value replaces what was there. */
function mergeInto(into: Table, from: Table): void {
  for (const [key, value] of Object.entries(from)) {
    const existing = into[key];
    if (isTable(existing) && isTable(value) && !(value instanceof Date)) mergeInto(existing, value);
    else into[key] = value;
  }
}

/**
 * The config an override file gives, checked before anything starts (the stack's own values
 * are stand-ins here). Throws ConfigError as `devConfig` does.
 */
export function checkDevOverrides(overrides?: DevOverrides): Config {
  return devConfig(
    {
      homeserverUrl: 'https://127.0.0.1:1',
      botUserId: '@voicebridge:localhost',
      botPassword: 'stand-in',
      caFile: '',
      storeDir: 'store',
      auditPath: 'audit.db',
    },
    overrides,
  );
}
