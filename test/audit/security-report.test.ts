import { describe, expect, it } from 'vitest';

import { AuditStore } from '../../src/audit/audit-store.js';
import {
  buildSecurityReport,
  formatSecurityReport,
  type SecurityReport,
} from '../../src/audit/security-report.js';
import { makeRecord, T0 } from './fixtures/records.js';
import { sampleStore } from './fixtures/sample-store.js';

const NOW = T0 + 86_400_000;

describe('buildSecurityReport', () => {
  it('counts calls by outcome, denials by reason and violations by kind', () => {
    const store = sampleStore();
    const report = buildSecurityReport(store, { now: NOW });
    store.close();

    expect(report.generated_at).toBe(NOW);
    expect(report.since).toBeNull();
    expect(report.calls).toEqual({ total: 11, ended: 4, denied: 6, failed: 1 });
    expect(report.denials_by_reason).toEqual([
      { reason: 'user_blocked', count: 3 },
      { reason: 'rate_limited', count: 2 },
      { reason: 'room_not_allowed', count: 1 },
    ]);
    expect(report.end_reasons).toEqual([
      { reason: 'hangup', count: 2 },
      { reason: 'budget_exhausted', count: 1 },
      { reason: 'ttl_expired', count: 1 },
    ]);
    expect(report.failures_by_reason).toEqual([{ reason: 'agent_unreachable', count: 1 }]);
    expect(report.violations_by_kind).toEqual([
      { kind: 'budget_exceeded', count: 2 },
      { kind: 'duration_exceeded', count: 1 },
    ]);
  });

  it('sums tokens, averages the duration of calls let in and lists policy versions', () => {
    const store = sampleStore();
    const report = buildSecurityReport(store, { now: NOW });
    store.close();

    expect(report.tokens).toEqual({ input: 410, output: 200, total: 610 });
    // Four 30 s calls and one 5 s failure; denied calls do not count.
    expect(report.average_duration).toBe(25_000);
    expect(report.policy_versions).toEqual([
      { version: 'policy-a', calls: 7, first_seen: T0, last_seen: T0 + 6 * 60_000 },
      { version: 'policy-b', calls: 4, first_seen: T0 + 7 * 60_000, last_seen: T0 + 10 * 60_000 },
    ]);
  });

  it('lists recent calls latest first with their reason, duration and tokens', () => {
    const store = sampleStore();
    const report = buildSecurityReport(store, { now: NOW });
    store.close();

    expect(report.recent_calls.map((c) => c.call_id)).toEqual(
      Array.from({ length: 11 }, (_, i) => `call-${10 - i}`),
    );
    expect(report.recent_calls.find((c) => c.call_id === 'call-6')).toEqual({
      call_id: 'call-6',
      room_id: '!room:example.org',
      caller: '@alice:example.org',
      state: 'failed',
      reason: 'agent_unreachable',
      start: T0 + 6 * 60_000,
      duration: 5_000,
      tokens: 10,
    });
  });

  it('keeps to the calls that ended since the given time', () => {
    const store = sampleStore();
    const report = buildSecurityReport(store, { since: T0 + 7 * 60_000, now: NOW });
    store.close();

    expect(report.since).toBe(T0 + 7 * 60_000);
    expect(report.calls).toEqual({ total: 4, ended: 1, denied: 3, failed: 0 });
    expect(report.denials_by_reason).toEqual([
      { reason: 'rate_limited', count: 1 },
      { reason: 'room_not_allowed', count: 1 },
      { reason: 'user_blocked', count: 1 },
    ]);
    expect(report.violations_by_kind).toEqual([]);
    expect(report.policy_versions.map((p) => p.version)).toEqual(['policy-b']);
    expect(report.recent_calls.map((c) => c.call_id)).toEqual([
      'call-10',
      'call-9',
      'call-8',
      'call-7',
    ]);
  });

  it('lists at most the 100 latest calls', () => {
    const store = AuditStore.open(':memory:');
    for (let i = 0; i < 120; i += 1) store.append(makeRecord(i));
    const report = buildSecurityReport(store, { now: NOW });
    store.close();

    expect(report.calls.total).toBe(120);
    expect(report.recent_calls).toHaveLength(100);
    expect(report.recent_calls[0]?.call_id).toBe('call-119');
    expect(report.recent_calls[99]?.call_id).toBe('call-20');
  });

  it('reports an empty store without averages', () => {
    const store = AuditStore.open(':memory:');
    const report = buildSecurityReport(store, { now: NOW, verify: true });
    store.close();

    expect(report.calls).toEqual({ total: 0, ended: 0, denied: 0, failed: 0 });
    expect(report.average_duration).toBeNull();
    expect(report.tokens.total).toBe(0);
    expect(report.chain).toEqual({ ok: true, checked: 0 });
  });

  it('includes the chain check only when asked', () => {
    const store = sampleStore();
    const without = buildSecurityReport(store, { now: NOW });
    const withChain = buildSecurityReport(store, { now: NOW, verify: true });
    store.close();

    expect(without.chain).toBeUndefined();
    expect(withChain.chain).toEqual({ ok: true, checked: 11 });
  });
});

describe('formatSecurityReport', () => {
  function sampleReport(): SecurityReport {
    const store = sampleStore();
    store.append(
      makeRecord(11, {
        caller: '@eve:example.org\u001b[2J',
        room_id: '!evil\u202eroom:example.org',
        end_reason: 'agent|hangup',
      }),
    );
    const report = buildSecurityReport(store, { now: NOW, verify: true });
    store.close();
    return report;
  }

  it('prints json that parses back to the same report, the same every time', () => {
    const report = sampleReport();
    const json = formatSecurityReport(report, 'json');

    expect(JSON.parse(json)).toEqual(report);
    expect(formatSecurityReport(report, 'json')).toBe(json);
    expect(json).toContain('\n  "calls": {\n');
  });

  it('prints markdown with a heading and a table for each part', () => {
    const markdown = formatSecurityReport(sampleReport(), 'markdown');

    expect(markdown).toMatch(/^# voicebridge security report\n/);
    for (const title of [
      'Calls',
      'Denials by reason',
      'End reasons of calls that ended',
      'Violations by kind',
      'Policy versions',
      'Recent calls',
      'Hash chain',
    ]) {
      expect(markdown).toContain(`## ${title}`);
    }
    expect(markdown).toContain('| reason | count |\n| --- | ---: |\n| `user_blocked` | 3 |');
    expect(markdown).toContain('| `budget_exceeded` | 2 |');
    expect(markdown).toContain('`agent\\|hangup`');
  });

  it('prints text whose columns line up', () => {
    const text = formatSecurityReport(sampleReport(), 'text');
    const lines = text.split('\n');
    const start = lines.indexOf('Denials by reason');
    const table = lines.slice(start + 1, start + 5);

    expect(table).toEqual([
      '  reason            count',
      '  user_blocked          3',
      '  rate_limited          2',
      '  room_not_allowed      1',
    ]);
    expect(text).toContain('intact: 12 records checked');
  });

  it('shows control and direction characters from records as escapes, never raw', () => {
    const report = sampleReport();

    for (const format of ['text', 'markdown', 'json'] as const) {
      const output = formatSecurityReport(report, format);
      expect(output).not.toContain('\u001b');
      expect(output).not.toContain('\u202e');
      expect(output).toContain('\\u001b');
      expect(output).toContain('\\u202e');
    }
    const parsed = JSON.parse(formatSecurityReport(report, 'json')) as SecurityReport;
    expect(parsed.recent_calls[0]?.room_id).toBe('!evil\u202eroom:example.org');
  });
});
