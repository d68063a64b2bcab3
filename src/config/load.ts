import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';

import { formatDuration, parseDuration } from './duration.js';
import { isLoopbackAddress } from './loopback.js';
import { isUserId } from './matrix-id.js';
import { SCHEMA, checkListItem, isField, type FieldSpec, type SectionSpec } from './schema.js';
import type { Config } from './types.js';

/** One thing wrong with a config file. */
export interface ConfigProblem {
  /** The dotted key path, such as `voice.ttl.max_ttl`. */
  key: string;
  message: string;
}

/** A config file that cannot be used; `problems` lists every error found, not only the first. */
export class ConfigError extends Error {
  readonly code = 'invalid_config';

  constructor(
    readonly source: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(problems.map((p) => `${source}: ${p.key}: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

/** Where secrets may come from besides the file itself. */
export interface SecretSources {
  env: Readonly<Record<string, string | undefined>>;
  readFile: (path: string) => string;
}

/** A secret file larger than this is not a token. */
const MAX_SECRET_FILE_BYTES = 64 * 1024;

const DEFAULT_SECRETS: SecretSources = {
  env: process.env,
  readFile: readSecretFile,
};

/** Reads a small regular file; refuses devices, pipes and anything too large to be a secret. */
function readSecretFile(path: string): string {
  const stats = statSync(path);
  if (!stats.isFile()) throw new Error('not a regular file');
  if (stats.size > MAX_SECRET_FILE_BYTES) {
    throw new Error(`larger than ${MAX_SECRET_FILE_BYTES} bytes`);
  }
  return readFileSync(path, 'utf8');
}

/** Reads and validates a config file. Throws ConfigError naming the file. */
export function loadConfigFile(path: string, secrets: SecretSources = DEFAULT_SECRETS): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [{ key: '(file)', message: `cannot read: ${errorText(error)}` }]);
  }
  return parseConfig(text, path, secrets);
}

/** Validates config text. `source` names it in errors. An empty text gives every default. */
export function parseConfig(
  text: string,
  source = '(config)',
  secrets: SecretSources = DEFAULT_SECRETS,
): Config {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (error) {
    throw new ConfigError(source, [{ key: '(syntax)', message: syntaxErrorText(error) }]);
  }

  const problems: ConfigProblem[] = [];
  const config = readSection(SCHEMA, raw, '', problems) as unknown as Config;
  readSecrets(config, secrets, problems);
  checkAcrossKeys(config, problems);
  if (problems.length > 0) throw new ConfigError(source, problems);
  return config;
}

/** The configuration with every default and no file at all. */
export function defaultConfig(): Config {
  return parseConfig('', '(defaults)', { env: {}, readFile: () => '' });
}

function readSection(
  spec: SectionSpec,
  raw: unknown,
  prefix: string,
  problems: ConfigProblem[],
): Record<string, unknown> {
  const table = isTable(raw) ? raw : {};
  if (raw !== undefined && !isTable(raw)) {
    problems.push({ key: prefix.slice(0, -1), message: `expected a table, got ${show(raw)}` });
  }

  for (const key of Object.keys(table)) {
    if (Object.hasOwn(spec, key)) continue;
    const near = closestKey(key, Object.keys(spec));
    problems.push({
      key: prefix + key,
      message: near === undefined ? 'unknown key' : `unknown key (did you mean ${prefix}${near}?)`,
    });
  }

  const out: Record<string, unknown> = {};
  for (const [key, node] of Object.entries(spec)) {
    out[key] = isField(node)
      ? readField(node, table[key], prefix + key, problems)
      : readSection(node, table[key], `${prefix}${key}.`, problems);
  }
  return out;
}

function readField(
  spec: FieldSpec,
  value: unknown,
  key: string,
  problems: ConfigProblem[],
): unknown {
  const fail = (expected: string): unknown => {
    // A secret's value is never echoed, not even when it is of the wrong type.
    const got =
      spec.kind === 'string' && spec.secret === true ? `a ${typeName(value)}` : show(value);
    problems.push({ key, message: `expected ${expected}, got ${got}` });
    return fieldDefault(spec);
  };
  if (value === undefined) return fieldDefault(spec);

  switch (spec.kind) {
    case 'bool':
      return typeof value === 'boolean' ? value : fail('true or false');
    case 'int': {
      const range = `an integer from ${spec.min} to ${spec.max}`;
      if (typeof value === 'bigint') return fail(range);
      if (typeof value !== 'number' || !Number.isInteger(value)) return fail(range);
      return value >= spec.min && value <= spec.max ? value : fail(range);
    }
    case 'ratio':
      return typeof value === 'number' && value > 0 && value <= 1
        ? value
        : fail('a number in (0, 1]');
    case 'duration': {
      const ms = typeof value === 'string' ? parseDuration(value) : undefined;
      const expected = 'a duration such as "500ms", "90s", "30m", "1h" or "1h30m"';
      if (ms === undefined) return fail(expected);
      const max = parseDuration(spec.max ?? '365d') ?? 0;
      const min = spec.min ?? 0;
      if (ms < min || ms > max) {
        return fail(`${expected}, from ${formatDuration(min)} to ${formatDuration(max)}`);
      }
      return ms;
    }
    case 'string':
      return typeof value === 'string' ? value : fail('a string');
    case 'enum':
      return typeof value === 'string' && spec.values.includes(value)
        ? value
        : fail(`one of ${spec.values.map((v) => JSON.stringify(v)).join(', ')}`);
    case 'list': {
      if (!Array.isArray(value)) return fail('a list of strings');
      const list: string[] = [];
      value.forEach((entry: unknown, index) => {
        const expected = typeof entry === 'string' ? checkListItem(spec.item, entry) : 'a string';
        if (expected === undefined) list.push(entry as string);
        else
          problems.push({
            key: `${key}[${index}]`,
            message: `expected ${expected}, got ${show(entry)}`,
          });
      });
      return list;
    }
  }
}

function fieldDefault(spec: FieldSpec): unknown {
  switch (spec.kind) {
    case 'duration':
      return parseDuration(spec.default) ?? 0;
    case 'list':
      return [...spec.default];
    default:
      return spec.default;
  }
}

function readSecrets(config: Config, secrets: SecretSources, problems: ConfigProblem[]): void {
  config.matrix.access_token = readSecret(
    config.matrix.access_token,
    secrets.env.VOICEBRIDGE_ACCESS_TOKEN,
    config.matrix.access_token_file,
    'matrix.access_token_file',
    secrets,
    problems,
  );
  config.matrix.password = readSecret(
    config.matrix.password,
    secrets.env.VOICEBRIDGE_PASSWORD,
    config.matrix.password_file,
    'matrix.password_file',
    secrets,
    problems,
  );
  config.admin.token = readSecret(
    config.admin.token,
    secrets.env.VOICEBRIDGE_ADMIN_TOKEN,
    config.admin.token_file,
    'admin.token_file',
    secrets,
    problems,
  );
}

/** The file's value wins, then the environment, then the named file. */
function isReadableFile(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function readSecret(
  inline: string,
  fromEnv: string | undefined,
  file: string,
  fileKey: string,
  secrets: SecretSources,
  problems: ConfigProblem[],
): string {
  if (inline !== '' && file !== '') {
    problems.push({ key: fileKey, message: 'is set as well as the secret itself: keep one' });
  }
  if (inline !== '') return inline;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (file === '') return '';
  try {
    const secret = secrets.readFile(file).trim();
    if (secret === '') problems.push({ key: fileKey, message: `${show(file)} is empty` });
    return secret;
  } catch (error) {
    problems.push({
      key: fileKey,
      message: `cannot read ${JSON.stringify(file)}: ${errorText(error)}`,
    });
    return '';
  }
}

/** The nearest known key within two edits of `key` (a typo), if any. */
function closestKey(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = editDistance(key, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

/** Levenshtein distance, for keys of a few dozen characters. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitute = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min((previous[j] as number) + 1, (row[j - 1] as number) + 1, substitute));
    }
    previous = row;
  }
  return previous[b.length] as number;
}

/** A bearer token as HTTP lets a client send it (RFC 6750 b64token), at most 4 KiB. */
const BEARER_TOKEN = /^(?=.{1,4096}$)[A-Za-z0-9\-._~+/]+=*$/;

function checkAcrossKeys(config: Config, problems: ConfigProblem[]): void {
  const { voice, matrix, media, agent, audit, admin } = config;
  if (matrix.user_id !== '' && !isUserId(matrix.user_id)) {
    problems.push({
      key: 'matrix.user_id',
      message: `expected a Matrix user id, got ${show(matrix.user_id)}`,
    });
  }
  if (isIP(media.bind_address) === 0) {
    problems.push({
      key: 'media.bind_address',
      message: `expected an IP address, got ${show(media.bind_address)}`,
    });
  }
  if (admin.token !== '' && !BEARER_TOKEN.test(admin.token)) {
    // The value is a secret: say what is wrong with it, never what it is.
    problems.push({
      key: 'admin.token',
      message:
        'must be 1 to 4096 characters of A-Z a-z 0-9 - . _ ~ + / (then = padding), ' +
        'so that a client can send it as "Bearer <token>"',
    });
  }
  if (isIP(admin.bind_address) === 0) {
    problems.push({
      key: 'admin.bind_address',
      message: `expected an IP address, got ${show(admin.bind_address)}`,
    });
  } else if (admin.enabled && admin.token === '' && !isLoopbackAddress(admin.bind_address)) {
    problems.push({
      key: 'admin.token',
      message: `is required when admin.bind_address (${show(admin.bind_address)}) is not loopback`,
    });
  }
  for (const key of ['matrix.ca_file', 'agent.ca_file'] as const) {
    const file = key === 'matrix.ca_file' ? matrix.ca_file : agent.ca_file;
    if (file !== '' && !isReadableFile(file)) {
      problems.push({ key, message: `cannot read ${show(file)}` });
    }
  }
  if (audit.path === '') problems.push({ key: 'audit.path', message: 'must name a file' });
  if (voice.ttl.default_ttl > voice.ttl.max_ttl) {
    problems.push({
      key: 'voice.ttl.default_ttl',
      message: `${formatDuration(voice.ttl.default_ttl)} is above voice.ttl.max_ttl (${formatDuration(voice.ttl.max_ttl)})`,
    });
  }
  if (media.port_range_end < media.port_range_begin) {
    problems.push({
      key: 'media.port_range_end',
      message: `${media.port_range_end} is below media.port_range_begin (${media.port_range_begin})`,
    });
  }
  if (/^[a-z]+:\/\/[^/]*@/i.test(matrix.homeserver_url)) {
    problems.push({
      key: 'matrix.homeserver_url',
      message: 'must not hold a user name or password: give the access token instead',
    });
  } else if (matrix.homeserver_url !== '' && !/^https?:\/\/[^\s/]+/.test(matrix.homeserver_url)) {
    problems.push({
      key: 'matrix.homeserver_url',
      message: `expected an http:// or https:// URL, got ${show(matrix.homeserver_url)}`,
    });
  } else if (voice.require_signaling_tls && matrix.homeserver_url.startsWith('http://')) {
    problems.push({
      key: 'matrix.homeserver_url',
      message: `${show(matrix.homeserver_url)} is not https:// while voice.require_signaling_tls is true`,
    });
  }
  if (agent.kind === 'websocket') {
    if (!/^wss?:\/\/[^\s/]+/.test(agent.url)) {
      problems.push({
        key: 'agent.url',
        message: `expected a ws:// or wss:// URL, got ${show(agent.url)}`,
      });
    } else if (voice.require_signaling_tls && agent.url.startsWith('ws://')) {
      problems.push({
        key: 'agent.url',
        message: `${show(agent.url)} is not wss:// while voice.require_signaling_tls is true`,
      });
    }
  }
}

/** The effective configuration as TOML, durations written back as strings, secrets redacted. */
export function formatEffectiveConfig(config: Config): string {
  return stringifyToml(present(SCHEMA, config as unknown as Record<string, unknown>));
}

function present(spec: SectionSpec, values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, node] of Object.entries(spec)) {
    const value = values[key];
    if (!isField(node)) out[key] = present(node, value as Record<string, unknown>);
    else if (node.kind === 'duration') out[key] = formatDuration(value as number);
    else if (node.kind === 'string' && node.secret === true && value !== '')
      out[key] = '(redacted)';
    else out[key] = value;
  }
  return out;
}

function isTable(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
  );
}

/**
 * A value as it appears in an error message: cut short so a huge value cannot flood the
 * output, and with control and direction characters escaped so it cannot act on a terminal.
 */
function show(value: unknown): string {
  let text: string;
  if (typeof value === 'bigint') text = `${value}`;
  else if (typeof value === 'number' && !Number.isFinite(value)) text = String(value);
  else if (value instanceof Date) text = value.toISOString();
  else text = JSON.stringify(value) ?? String(value);
  text = escapeForTerminal(text);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** Escapes C0 and C1 controls and bidirectional formatting characters as \u{...}. */
export function escapeForTerminal(text: string): string {
  return text.replace(
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u{${c.charCodeAt(0).toString(16)}}`,
  );
}

/** What went wrong, and where, without the file's text: the line may hold a secret. */
function syntaxErrorText(error: unknown): string {
  const first = errorText(error).split('\n')[0] ?? '';
  const { line, column } = error as { line?: unknown; column?: unknown };
  const at =
    typeof line === 'number' && typeof column === 'number'
      ? ` (line ${line}, column ${column})`
      : '';
  return escapeForTerminal(first + at);
}

function typeName(value: unknown): string {
  if (Array.isArray(value)) return 'list';
  if (value instanceof Date) return 'date';
  return typeof value === 'object' && value !== null ? 'table' : typeof value;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
