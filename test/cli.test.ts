import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { AuditStore } from '../src/audit/audit-store.js';
import { main } from '../src/cli.js';

function run(argv: string[]): { code: number; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const code = main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  if (typeof code !== 'number') throw new Error('this command runs asynchronously');
  return { code, stdout, stderr };
}

const scratches: string[] = [];
const scratch = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'voicebridge-cli-'));
  scratches.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of scratches) rmSync(dir, { recursive: true, force: true });
});

describe('voicebridge --version', () => {
  it('prints the version of the package', () => {
    const { code, stdout } = run(['--version']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^voicebridge \d+\.\d+\.\d+\n$/);
  });
});

describe('voicebridge check-config', () => {
  it('prints the effective config with secrets redacted and exits 0', () => {
    const file = join(scratch(), 'bridge.toml');
    writeFileSync(
      file,
      '[voice]\nmax_concurrent_calls = 4\n[matrix]\naccess_token = "syt_very_secret"\n',
    );
    const { code, stdout, stderr } = run(['check-config', file]);
    expect(code).toBe(0);
    expect(stdout).toContain('max_concurrent_calls = 4');
    expect(stdout).toContain('default_ttl = "10m"');
    expect(stdout).not.toContain('syt_very_secret');
    // Valid, but serve would need more: said, not failed.
    expect(stderr).toBe(
      `note: serve would not start with ${file}:\n` +
        '  matrix.homeserver_url: serve needs a homeserver\n' +
        '  matrix.user_id: serve needs the bot account\n',
    );
  });

  it('prints every error and exits 2', () => {
    const file = join(scratch(), 'bad.toml');
    writeFileSync(file, '[voice]\nmax_concurrent_calls = 0\nwarning_threshold = 2\n');
    const { code, stderr } = run(['check-config', file]);
    expect(code).toBe(2);
    expect(stderr).toContain(`${file}: voice.max_concurrent_calls`);
    expect(stderr).toContain(`${file}: voice.warning_threshold`);
    expect(stderr).toContain('2 error(s)');
  });

  it('names a missing file', () => {
    const { code, stderr } = run(['check-config', '/nonexistent/bridge.toml']);
    expect(code).toBe(2);
    expect(stderr).toContain('/nonexistent/bridge.toml: (file): cannot read');
  });
});

describe('voicebridge simulate', () => {
  it('runs callers through the policy and leaves a verified audit trail', () => {
    const dir = scratch();
    const audit = join(dir, 'audit.db');
    const { code, stdout } = run([
      'simulate',
      '--hours',
      '0.5',
      '--audit',
      audit,
      '--events',
      join(dir, 'events.jsonl'),
    ]);
    expect(code).toBe(0);
    expect(stdout).toContain('user_blocked');
    const store = AuditStore.openReadOnly(audit);
    try {
      expect(store.count()).toBeGreaterThan(0);
      expect(store.verify().ok).toBe(true);
    } finally {
      store.close();
    }
  });

  it('refuses a bad flag value with its name', () => {
    const { code, stderr } = run(['simulate', '--hours', 'lots']);
    expect(code).toBe(2);
    expect(stderr).toContain('--hours must be a number');
  });
});

describe('voicebridge', () => {
  it('refuses an unknown command', () => {
    const { code, stderr } = run(['launch']);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown command "launch"');
  });
});
