import { describe, expect, it } from 'vitest';

import { ConfigError, parseConfig } from '../../src/config/load.js';
import { isLoopbackAddress } from '../../src/config/loopback.js';

const noSecrets = { env: {}, readFile: () => '' };

function problemsOf(text: string, readFile: (path: string) => string = () => ''): string[] {
  try {
    parseConfig(text, 'bridge.toml', { env: {}, readFile });
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => `${p.key}: ${p.message}`);
  }
}

describe('the [admin] section', () => {
  it('refuses an admin token that no client can send as "Bearer <token>"', () => {
    for (const token of [' ', 'two words', ' leading', 'trailing ', 'nul\\u0000', 'tab\\tin']) {
      const problems = problemsOf(`[admin]\ntoken = "${token}"\n`);
      expect(
        problems.some((p) => p.startsWith('admin.token')),
        token,
      ).toBe(true);
    }
    expect(parseConfig('[admin]\ntoken = "s3cret-token"\n', 'ok', noSecrets).admin.token).toBe(
      's3cret-token',
    );
  });

  it('refuses an empty admin.token_file rather than serving without a token', () => {
    for (const content of ['', '\n', '   \n']) {
      const problems = problemsOf('[admin]\ntoken_file = "admin.token"\n', () => content);
      expect(
        problems.some((p) => p.startsWith('admin.token_file')),
        JSON.stringify(content),
      ).toBe(true);
    }
  });
});

describe('isLoopbackAddress', () => {
  it('knows ::1 and 127.0.0.1 in every way IPv6 lets them be written', () => {
    for (const address of [
      '::1',
      '0::1',
      '::0:1',
      '::0001',
      '0:0:0:0:0:0:0:1',
      '0000:0000:0000:0000:0000:0000:0000:0001',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::FFFF:7F00:0001',
    ]) {
      expect(isLoopbackAddress(address), address).toBe(true);
    }
  });

  it('refuses every address that is not loopback', () => {
    for (const address of [
      '::',
      '0.0.0.0',
      '::ffff:0.0.0.0',
      '::ffff:10.0.0.1',
      '::ffff:0:127.0.0.1',
      '::127.0.0.1',
      'fe80::1%lo',
      '::1%lo',
      '1::ffff:127.0.0.1',
      'localhost',
      '128.0.0.1',
    ]) {
      expect(isLoopbackAddress(address), address).toBe(false);
    }
  });
});
