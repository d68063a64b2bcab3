import { describe, expect, it } from 'vitest';

import {
  ConfigError,
  defaultConfig,
  formatEffectiveConfig,
  parseConfig,
} from '../../src/config/load.js';
import { policyVersion } from '../../src/config/policy-version.js';

const noSecrets = { env: {}, readFile: (): string => '' };

function problemsOf(text: string, secrets = noSecrets): string[] {
  try {
    parseConfig(text, 'bridge.toml', secrets);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.key}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('configuration', () => {
  it('has the hardening defaults when the file is empty', () => {
    const { voice } = defaultConfig();
    expect(voice).toMatchObject({
      max_concurrent_calls: 10,
      max_call_duration: 3_600_000,
      allowed_users: [],
      blocked_users: [],
      allowed_rooms: [],
      blocked_rooms: [],
      require_e2ee: true,
      require_signaling_tls: true,
      rate_limit_calls: 10,
      rate_limit_window: 3_600_000,
      default_token_limit: 100_000,
      default_duration_limit: 1_800_000,
      warning_threshold: 0.8,
      hard_stop: true,
      max_calls_per_user: 0,
      max_calls_per_room: 0,
    });
    expect(voice.ttl).toEqual({
      default_ttl: 600_000,
      max_ttl: 3_600_000,
      enforcement_interval: 30_000,
      warning_threshold: 0.9,
      hard_stop: true,
    });
  });

  it('reads every key of the voice section', () => {
    const config = parseConfig(
      `
[voice]
max_concurrent_calls = 3
max_call_duration = "2h"
allowed_users = ["@alice:example.org", "@*:trusted.example"]
blocked_users = ["@mallory:example.org"]
allowed_rooms = ["!room:example.org"]
blocked_rooms = ["!*:spam.example"]
require_e2ee = false
require_signaling_tls = false
rate_limit_calls = 0
rate_limit_window = "10m"
default_token_limit = 500
default_duration_limit = "1h30m"
warning_threshold = 1.0
hard_stop = false
[voice.ttl]
default_ttl = "500ms"
max_ttl = "90s"
enforcement_interval = "1s"
warning_threshold = 0.5
hard_stop = false
`,
      'bridge.toml',
      noSecrets,
    );
    expect(config.voice.max_call_duration).toBe(7_200_000);
    expect(config.voice.allowed_users).toEqual(['@alice:example.org', '@*:trusted.example']);
    expect(config.voice.default_duration_limit).toBe(5_400_000);
    expect(config.voice.warning_threshold).toBe(1);
    expect(config.voice.ttl.default_ttl).toBe(500);
    expect(config.voice.ttl.hard_stop).toBe(false);
  });

  it('reports every error at once, naming the file, the key and the value', () => {
    let error: unknown;
    try {
      parseConfig(
        `
[voice]
max_concurrent_calls = -1
max_call_duration = "forever"
warning_threshold = 0
blocked_users = ["mallory", 7]
surprise = true
[voice.ttl]
warning_threshold = 1.5
default_ttl = "2h"
`,
        'bridge.toml',
        noSecrets,
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain(
      'bridge.toml: voice.max_concurrent_calls: expected an integer from 1',
    );
    expect(message).toContain('got -1');
    expect(message).toContain('voice.max_call_duration: expected a duration');
    expect(message).toContain('"forever"');
    expect(message).toContain('voice.warning_threshold: expected a number in (0, 1], got 0');
    expect(message).toContain('voice.blocked_users[0]: expected a Matrix user id');
    expect(message).toContain('voice.blocked_users[1]: expected a string, got 7');
    expect(message).toContain('voice.surprise: unknown key');
    expect(message).toContain('voice.ttl.warning_threshold: expected a number in (0, 1], got 1.5');
    expect(message).toContain('voice.ttl.default_ttl: 2h is above voice.ttl.max_ttl (1h)');
    expect((error as ConfigError).problems).toHaveLength(8);
  });

  it('refuses wrong types and unknown sections', () => {
    expect(problemsOf('[voice]\nrequire_e2ee = "yes"')).toEqual([
      'voice.require_e2ee: expected true or false, got "yes"',
    ]);
    expect(problemsOf('[voice]\nrate_limit_calls = 2.5')[0]).toContain('got 2.5');
    expect(problemsOf('[nonsense]\nx = 1')).toEqual(['nonsense: unknown key']);
    expect(problemsOf('[voice]\nrate_limt_calls = 3\n[admn]\nport = 1')).toEqual([
      'admn: unknown key (did you mean admin?)',
      'voice.rate_limt_calls: unknown key (did you mean voice.rate_limit_calls?)',
    ]);
    expect(problemsOf('voice = 3')).toEqual(['voice: expected a table, got 3']);
    expect(problemsOf('[voice]\nmax_call_duration = 3600')[0]).toContain('got 3600');
  });

  it('reports a syntax error with the file name', () => {
    expect(() => parseConfig('[voice\n', 'bridge.toml', noSecrets)).toThrow(
      /bridge\.toml: \(syntax\)/,
    );
  });

  it('takes room and user patterns and refuses malformed ids', () => {
    expect(
      problemsOf('[voice]\nallowed_rooms = ["!*:example.org", "!abc:example.org:8448"]'),
    ).toEqual([]);
    expect(problemsOf('[voice]\nallowed_rooms = ["#alias:example.org"]')[0]).toContain(
      'voice.allowed_rooms[0]: expected a Matrix room id',
    );
    expect(problemsOf('[voice]\nallowed_users = ["@*:"]')).toHaveLength(1);
  });

  it('refuses a plain http homeserver while TLS is required, and allows it when it is not', () => {
    expect(problemsOf('[matrix]\nhomeserver_url = "http://hs.example"')[0]).toContain(
      'matrix.homeserver_url: "http://hs.example" is not https://',
    );
    expect(
      problemsOf(
        '[voice]\nrequire_signaling_tls = false\n[matrix]\nhomeserver_url = "http://hs.example"',
      ),
    ).toEqual([]);
  });

  it('requires wss:// for a websocket agent while TLS is required', () => {
    expect(problemsOf('[agent]\nkind = "websocket"\nurl = "ws://127.0.0.1:9000"')[0]).toContain(
      'agent.url',
    );
    expect(problemsOf('[agent]\nkind = "websocket"\nurl = "wss://127.0.0.1:9000"')).toEqual([]);
  });

  it('reads secrets from the environment or a file and redacts them when printed', () => {
    const config = parseConfig('[admin]\ntoken_file = "admin.token"', 'bridge.toml', {
      env: { VOICEBRIDGE_ACCESS_TOKEN: 'syt_secret' },
      readFile: (path) => (path === 'admin.token' ? 'file-secret\n' : ''),
    });
    expect(config.matrix.access_token).toBe('syt_secret');
    expect(config.admin.token).toBe('file-secret');
    const printed = formatEffectiveConfig(config);
    expect(printed).not.toContain('syt_secret');
    expect(printed).not.toContain('file-secret');
    expect(printed).toContain('access_token = "(redacted)"');
    expect(printed).toContain('max_call_duration = "1h"');
  });

  it('names an unreadable secret file', () => {
    const problems = problemsOf('[matrix]\naccess_token_file = "missing.token"', {
      env: {},
      readFile: () => {
        throw new Error('ENOENT');
      },
    });
    expect(problems).toEqual(['matrix.access_token_file: cannot read "missing.token": ENOENT']);
  });

  it('prints an effective config that parses back to the same config', () => {
    const config = parseConfig(
      '[voice]\nmax_call_duration = "1h30m"\nblocked_users = ["@a:b.c"]',
      'x',
      noSecrets,
    );
    expect(parseConfig(formatEffectiveConfig(config), 'y', noSecrets)).toEqual(config);
  });
});

describe('policy version', () => {
  it('is the same whatever the order of keys and list entries', () => {
    const a = parseConfig(
      '[voice]\nblocked_users = ["@a:x.org", "@b:x.org"]\nhard_stop = true',
      'a',
      noSecrets,
    );
    const b = parseConfig(
      '[voice]\nhard_stop = true\nblocked_users = ["@b:x.org", "@a:x.org"]',
      'b',
      noSecrets,
    );
    expect(policyVersion(a.voice)).toBe(policyVersion(b.voice));
  });

  it('changes when a setting changes', () => {
    const a = parseConfig('', 'a', noSecrets);
    const b = parseConfig('[voice]\nmax_concurrent_calls = 11', 'b', noSecrets);
    expect(policyVersion(a.voice)).not.toBe(policyVersion(b.voice));
    expect(policyVersion(a.voice)).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('configuration errors never echo secrets or control characters', () => {
  it('shows no part of the file in a syntax error', () => {
    const problems = problemsOf('[matrix]\naccess_token = "syt_leak\n');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^\(syntax\): .*\(line 2, column \d+\)$/);
    expect(problems.join()).not.toContain('syt_leak');
  });

  it('does not echo a secret of the wrong type', () => {
    const problems = problemsOf('[matrix]\naccess_token = ["syt_leak"]\n[admin]\ntoken = 12345');
    expect(problems).toEqual([
      'matrix.access_token: expected a string, got a list',
      'admin.token: expected a string, got a number',
    ]);
  });

  it('refuses a homeserver URL that carries a password, without echoing it', () => {
    const problems = problemsOf('[matrix]\nhomeserver_url = "https://bot:hunter2@hs.example"');
    expect(problems).toEqual([
      'matrix.homeserver_url: must not hold a user name or password: give the access token instead',
    ]);
  });

  it('escapes C1 controls and direction overrides in values', () => {
    const problems = problemsOf('[voice]\nblocked_users = ["\u009b2J\u202e"]');
    expect(problems[0]).toContain('\\u{9b}2J\\u{202e}');
  });

  it('names non-finite numbers as they are', () => {
    expect(problemsOf('[voice]\nwarning_threshold = nan')[0]).toContain('got NaN');
  });

  it('treats names of built-in object properties as unknown keys', () => {
    expect(problemsOf('[voice]\ntoString = 1\nconstructor = 2')).toEqual([
      'voice.toString: unknown key',
      'voice.constructor: unknown key',
    ]);
  });

  it('refuses an enforcement interval a timer cannot hold', () => {
    expect(problemsOf('[voice.ttl]\nenforcement_interval = "25d"')[0]).toContain('from 10ms to 1h');
  });

  it('refuses a secret file that is not a small regular file', () => {
    const problems: string[] = [];
    try {
      parseConfig('[matrix]\naccess_token_file = "/dev/zero"', 'x');
    } catch (error) {
      problems.push(...(error as ConfigError).problems.map((p) => p.message));
    }
    expect(problems).toEqual(['cannot read "/dev/zero": not a regular file']);
  });
});

describe('settings checked against each other and the machine', () => {
  it('refuses a bot id that is not a user id, a bind address that is not an IP, an unreadable CA', () => {
    const problems = problemsOf(
      '[matrix]\nuser_id = "voicebot"\nca_file = "/nonexistent.pem"\n[media]\nbind_address = "not an ip"\n[audit]\npath = ""',
    );
    expect(problems).toEqual([
      'matrix.user_id: expected a Matrix user id, got "voicebot"',
      'media.bind_address: expected an IP address, got "not an ip"',
      'matrix.ca_file: cannot read "/nonexistent.pem"',
      'audit.path: must name a file',
    ]);
  });

  it('refuses an admin address that is not an IP, and one away from loopback without a token', () => {
    expect(problemsOf('[admin]\nbind_address = "localhost"')).toEqual([
      'admin.bind_address: expected an IP address, got "localhost"',
    ]);
    expect(problemsOf('[admin]\nbind_address = "0.0.0.0"')).toEqual([
      'admin.token: is required when admin.bind_address ("0.0.0.0") is not loopback',
    ]);
    expect(problemsOf('[admin]\nbind_address = "::"\ntoken = "t0ken"')).toEqual([]);
    expect(problemsOf('[admin]\nbind_address = "::1"')).toEqual([]);
    expect(problemsOf('[admin]\nbind_address = "10.0.0.5"\nenabled = false')).toEqual([]);
  });

  it('refuses a secret given both inline and as a file', () => {
    expect(problemsOf('[matrix]\naccess_token = "syt_x"\naccess_token_file = "t"')).toEqual([
      'matrix.access_token_file: is set as well as the secret itself: keep one',
    ]);
  });

  it('gives the same policy version to ids that differ only in server case', () => {
    const a = parseConfig('[voice]\nblocked_users = ["@b:X.ORG"]', 'a', noSecrets);
    const b = parseConfig('[voice]\nblocked_users = ["@b:x.org"]', 'b', noSecrets);
    expect(policyVersion(a.voice)).toBe(policyVersion(b.voice));
  });
});
