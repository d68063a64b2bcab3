import { existsSync } from 'node:fs';
import { join } from 'node:path';

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { AuditStore } from '../../src/audit/audit-store.js';
import { runReportCommand } from '../../src/audit/report-command.js';
import type { SecurityReport } from '../../src/audit/security-report.js';
import { T0 } from './fixtures/records.js';
import { sampleRecords } from './fixtures/sample-store.js';
import { useTempDir } from './fixtures/temp-dir.js';

// The sample calls run from T0 to T0 + 10 min; "now" is 10 min after the last one ends.
const NOW = T0 + 20 * 60_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[]): Run {
  let stdout = '';
  let stderr = '';
  const code = runReportCommand(
    args,
    { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) },
    NOW,
  );
  return { code, stdout, stderr };
}

describe('voicebridge report', () => {
  const tempDir = useTempDir();

  function sampleFile(): string {
    const path = join(tempDir(), 'audit.db');
    const store = AuditStore.open(path);
    for (const record of sampleRecords()) store.append(record);
    store.close();
    return path;
  }

  function jsonReport(args: string[]): SecurityReport {
    const result = run([...args, '--format', 'json']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    return JSON.parse(result.stdout) as SecurityReport;
  }

  it('prints the text report of the given store and exits 0', () => {
    const result = run(['--audit', sampleFile()]);

    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^voicebridge security report\n/);
    expect(result.stdout).toContain('user_blocked          3');
  });

  it('prints each format', () => {
    const path = sampleFile();

    expect(jsonReport(['--audit', path]).calls.total).toBe(11);
    const markdown = run(['--audit', path, '--format=markdown']);
    expect(markdown.code).toBe(0);
    expect(markdown.stdout).toContain('| reason | count |');
  });

  it('takes --since as a duration back from now', () => {
    const path = sampleFile();

    // 13 min before NOW is T0 + 7 min: calls 7 to 10.
    expect(jsonReport(['--audit', path, '--since', '13m']).calls.total).toBe(4);
    expect(jsonReport(['--audit', path, '--since', '1h']).calls.total).toBe(11);
    expect(jsonReport(['--audit', path, '--since', '0h13m']).since).toBe(T0 + 7 * 60_000);
  });

  it('takes --since as an ISO 8601 time', () => {
    const path = sampleFile();

    const report = jsonReport(['--audit', path, '--since', '2026-03-01T00:07:00Z']);
    expect(report.since).toBe(T0 + 7 * 60_000);
    expect(report.calls).toEqual({ total: 4, ended: 1, denied: 3, failed: 0 });
    expect(jsonReport(['--audit', path, '--since', '2026-03-02']).calls.total).toBe(0);
  });

  it('exits 2 naming the path when the store does not exist, and creates nothing', () => {
    const path = join(tempDir(), 'nowhere', 'audit.db');

    const result = run(['--audit', path]);

    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(path);
    expect(existsSync(path)).toBe(false);
    expect(existsSync(join(tempDir(), 'nowhere'))).toBe(false);
  });

  it('exits 2 naming the path when the file is not an audit store', () => {
    const path = join(tempDir(), 'other.db');
    const db = new Database(path);
    db.exec('CREATE TABLE notes (text TEXT)');
    db.close();

    const result = run(['--audit', path]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${path}: not an audit store`);
  });

  it.each([
    [['--colour'], "'--colour'"],
    [['--since', 'yesterday'], "--since: 'yesterday'"],
    [['--since', '2026-02-30'], "--since: '2026-02-30'"],
    [['--since=-2h'], "--since: '-2h'"],
    [['--format', 'html'], "--format: 'html'"],
    [['--audit'], "'--audit"],
    [['extra'], "'extra'"],
  ])('exits 2 on %j, naming the flag and value', (args, named) => {
    const result = run(args);

    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(named);
    expect(result.stderr).toContain('usage: voicebridge report');
  });

  it('exits 0 with --verify on an intact chain', () => {
    const result = run(['--audit', sampleFile(), '--verify']);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('intact: 11 records checked');
  });

  it('exits 1 with --verify on a broken chain, saying where and how', () => {
    const path = sampleFile();
    const db = new Database(path);
    db.exec("UPDATE audit_records SET state = 'ended' WHERE seq = 2");
    db.close();

    const result = run(['--audit', path, '--verify']);

    expect(result.code).toBe(1);
    expect(result.stdout).toContain('BROKEN at record 2 (edited)');
    expect(result.stderr).toContain('broken at record 2 (edited)');
  });

  it('does not check the chain without --verify', () => {
    const path = sampleFile();
    const db = new Database(path);
    db.exec('DELETE FROM audit_records WHERE seq = 5');
    db.close();

    expect(run(['--audit', path]).code).toBe(0);
  });
});
