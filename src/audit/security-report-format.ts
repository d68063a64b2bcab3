import { formatDuration } from '../config/duration.js';

import type { ChainVerification } from './chain-verify.js';
import {
  groupDigits,
  markdownTable,
  printable,
  printableJson,
  textTable,
  type Table,
} from './report-tables.js';
import type { SecurityReport } from './security-report.js';

/** The ways a report can be printed. */
export type ReportFormat = 'text' | 'markdown' | 'json';

/** Every report format, for validating a flag. */
export const REPORT_FORMATS: readonly ReportFormat[] = ['text', 'markdown', 'json'];

/** One titled part of the report, shown as a table (or `empty` when it has no rows). */
interface Section {
  title: string;
  table: Table;
  /** Columns holding text from outside, shown verbatim in Markdown. */
  literal: boolean[];
}

/**
 * Renders a report: `text` is aligned plain text for a terminal, `markdown` is headed tables,
 * `json` is the report object pretty-printed (the same report always gives the same text).
 * The output ends with a newline.
 */
export function formatSecurityReport(report: SecurityReport, format: ReportFormat): string {
  switch (format) {
    case 'text':
      return formatText(report);
    case 'markdown':
      return formatMarkdown(report);
    case 'json':
      return formatJson(report);
  }
}

function formatText(report: SecurityReport): string {
  const lines = [
    'voicebridge security report',
    '',
    `generated  ${time(report.generated_at)}`,
    `since      ${report.since === null ? 'all records' : time(report.since)}`,
  ];

  for (const section of sections(report)) {
    lines.push('', section.title);
    if (section.table.rows.length === 0) lines.push('  (none)');
    else lines.push(...textTable(section.table));
  }

  if (report.chain !== undefined) lines.push('', 'Hash chain', `  ${chainSummary(report.chain)}`);
  return `${lines.join('\n')}\n`;
}

function formatMarkdown(report: SecurityReport): string {
  const lines = [
    '# voicebridge security report',
    '',
    `Generated ${time(report.generated_at)}; covers calls ended ` +
      (report.since === null ? 'at any time.' : `since ${time(report.since)}.`),
  ];

  for (const section of sections(report)) {
    lines.push('', `## ${section.title}`, '');
    if (section.table.rows.length === 0) lines.push('None.');
    else lines.push(...markdownTable(section.table, section.literal));
  }

  if (report.chain !== undefined) {
    lines.push('', '## Hash chain', '', printable(chainSummary(report.chain)));
  }
  return `${lines.join('\n')}\n`;
}

function formatJson(report: SecurityReport): string {
  // JSON.stringify leaves C1 controls and bidirectional overrides as raw characters; escape
  // them so the output is as safe to print in a terminal as the text format.
  return `${printableJson(JSON.stringify(report, null, 2))}\n`;
}

function sections(report: SecurityReport): Section[] {
  const { calls, tokens } = report;
  const count = (n: number): string => groupDigits(n);

  return [
    {
      title: 'Calls',
      table: {
        header: ['outcome', 'count'],
        rows: [
          ['total', count(calls.total)],
          ['ended', count(calls.ended)],
          ['denied', count(calls.denied)],
          ['failed', count(calls.failed)],
        ],
        numeric: [false, true],
      },
      literal: [],
    },
    reasonSection('Denials by reason', report.denials_by_reason),
    reasonSection('End reasons of calls that ended', report.end_reasons),
    reasonSection('Failures by reason', report.failures_by_reason),
    {
      title: 'Violations by kind',
      table: {
        header: ['kind', 'count'],
        rows: report.violations_by_kind.map((v) => [v.kind, count(v.count)]),
        numeric: [false, true],
      },
      literal: [true],
    },
    {
      title: 'Policy versions',
      table: {
        header: ['version', 'calls', 'first seen', 'last seen'],
        rows: report.policy_versions.map((p) => [
          p.version,
          count(p.calls),
          time(p.first_seen),
          time(p.last_seen),
        ]),
        numeric: [false, true, false, false],
      },
      literal: [true],
    },
    {
      title: 'Usage',
      table: {
        header: ['measure', 'value'],
        rows: [
          ['input tokens', count(tokens.input)],
          ['output tokens', count(tokens.output)],
          ['total tokens', count(tokens.total)],
          [
            'average duration',
            report.average_duration === null ? '-' : formatDuration(report.average_duration),
          ],
        ],
        numeric: [false, true],
      },
      literal: [],
    },
    {
      title: `Recent calls (latest ${report.recent_calls.length}, by start)`,
      table: {
        header: ['call', 'room', 'caller', 'state', 'reason', 'start', 'duration', 'tokens'],
        rows: report.recent_calls.map((c) => [
          c.call_id,
          c.room_id,
          c.caller,
          c.state,
          c.reason,
          time(c.start),
          formatDuration(c.duration),
          count(c.tokens),
        ]),
        numeric: [false, false, false, false, false, false, true, true],
      },
      literal: [true, true, true, false, true],
    },
  ];
}

function reasonSection(title: string, counts: { reason: string; count: number }[]): Section {
  return {
    title,
    table: {
      header: ['reason', 'count'],
      rows: counts.map((c) => [c.reason, groupDigits(c.count)]),
      numeric: [false, true],
    },
    literal: [true],
  };
}

function chainSummary(chain: ChainVerification): string {
  if (chain.problem === undefined) return `intact: ${groupDigits(chain.checked)} records checked`;
  const { seq, kind, detail } = chain.problem;
  return (
    `BROKEN at record ${seq} (${kind}): ${detail}; ` +
    `${groupDigits(chain.checked)} records checked before it`
  );
}

function time(ms: number): string {
  const date = new Date(ms);
  // An edited row may hold a time no Date can show; print the number rather than fail.
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}
