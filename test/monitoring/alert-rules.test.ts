import { readFileSync } from 'node:fs';

import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { metricsFor } from '../admin/admin-fixture.js';
import { coreWith } from '../calls/core-fixture.js';

interface Rule {
  alert?: unknown;
  expr?: unknown;
  for?: unknown;
  labels?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}

const file = new URL('../../monitoring/voicebridge-alerts.yml', import.meta.url);
const rules: Rule[] = (
  parse(readFileSync(file, 'utf8'), { uniqueKeys: true, strict: true }) as {
    groups: Array<{ name: string; rules: Rule[] }>;
  }
).groups.flatMap((group) => group.rules);

/** Syntax errors in a PromQL expression (as Prometheus's own grammar sees them), and the metrics it reads. */
function readPromQl(expr: string): { errors: number; metrics: string[] } {
  let errors = 0;
  const metrics: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) errors += 1;
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') {
        metrics.push(expr.slice(node.from, node.to));
      }
    },
  });
  return { errors, metrics };
}

describe('the alert rules file', () => {
  it('alerts on failure rate, memory growth, the call limit, the rate limit and expirations', () => {
    expect(rules.map((rule) => rule.alert)).toEqual(
      expect.arrayContaining([
        'VoicebridgeCallFailureRateHigh',
        'VoicebridgeMemoryGrowth',
        'VoicebridgeConcurrentCallLimitReached',
        'VoicebridgeRateLimitExceededOften',
        'VoicebridgeUnusualSessionExpirations',
      ]),
    );
    expect(new Set(rules.map((rule) => rule.alert)).size).toBe(rules.length);
  });

  it('has rules Prometheus can load: a PromQL expression, a duration, a severity, a summary', () => {
    for (const rule of rules) {
      expect(typeof rule.alert === 'string' && /^[A-Z][A-Za-z]+$/.test(rule.alert)).toBe(true);
      expect(typeof rule.expr).toBe('string');
      expect({ alert: rule.alert, ...readPromQl(rule.expr as string) }).toMatchObject({
        errors: 0,
      });
      if (rule.for !== undefined) expect(rule.for).toMatch(/^\d+[smhdwy]$/);
      expect(['warning', 'critical']).toContain(rule.labels?.severity);
      expect(typeof rule.annotations?.summary).toBe('string');
    }
  });

  it('catches a broken expression (the check itself works)', () => {
    expect(readPromQl('sum(rate(voicebridge_calls_ended_total[5m]) >').errors).toBeGreaterThan(0);
    expect(readPromQl('voicebridge_active_calls >= voicebridge_max_concurrent_calls')).toEqual({
      errors: 0,
      metrics: ['voicebridge_active_calls', 'voicebridge_max_concurrent_calls'],
    });
  });

  it('reads only metrics the bridge exports', async () => {
    const metrics = metricsFor(coreWith());
    const exported = new Set(
      [...(await metrics.text()).matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]),
    );
    metrics.close();
    const read = rules.flatMap((rule) => readPromQl(rule.expr as string).metrics);
    expect(read.length).toBeGreaterThan(rules.length);
    expect(read.filter((name) => !exported.has(name))).toEqual([]);
  });
});
