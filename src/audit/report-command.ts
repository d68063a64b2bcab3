import { parseArgs } from 'node:util';

import { AuditError } from './audit-error.js';
import { AuditStore } from './audit-store.js';
import { parseSince } from './report-since.js';
import { buildSecurityReport, formatSecurityReport } from './security-report.js';
import { REPORT_FORMATS, type ReportFormat } from './security-report-format.js';

/** Where the command prints. */
export interface CommandIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

/** The audit store path when neither `--audit` nor a config file names one. */
export const DEFAULT_AUDIT_PATH = 'voicebridge-audit.db';

/** Exit codes of `voicebridge report`. */
export const REPORT_EXIT = {
  ok: 0,
  /** `--verify` found the hash chain broken. */
  chainBroken: 1,
  /** Bad flags, or no readable audit store. */
  usage: 2,
} as const;

const USAGE = `usage: voicebridge report [--audit PATH] [--since T]
                          [--format text|markdown|json] [--verify]

  --audit PATH    the audit store to read (default ${DEFAULT_AUDIT_PATH})
  --since T       only calls that ended since T: an ISO 8601 time (2026-03-01T08:00:00Z)
                  or a duration back from now (24h, 7d, 90m, 1h30m)
  --format F      text (default), markdown or json
  --verify        also check the hash chain; exit 1 when it is broken
`;

/** What the flags asked for, once checked. */
interface ReportRequest {
  path: string;
  since: number | undefined;
  format: ReportFormat;
  verify: boolean;
}

/**
 * `voicebridge report`: prints the security report from the audit store, read-only. `args` are
 * the words after `report`. Returns the exit code: 0 when done, 1 when `--verify` finds the
 * chain broken, 2 for a bad flag or a missing or unreadable store.
 */
export function runReportCommand(args: string[], io: CommandIo, now = Date.now()): number {
  const request = readFlags(args, io, now);
  if (typeof request === 'number') return request;

  let store: AuditStore;
  try {
    store = AuditStore.openReadOnly(request.path);
  } catch (error) {
    return fail(io, request.path, error);
  }

  try {
    const report = buildSecurityReport(store, {
      since: request.since,
      now,
      verify: request.verify,
    });
    io.stdout(formatSecurityReport(report, request.format));

    const problem = report.chain?.problem;
    if (problem === undefined) return REPORT_EXIT.ok;
    io.stderr(
      `voicebridge report: audit chain in ${request.path} is broken at record ${problem.seq} ` +
        `(${problem.kind}): ${problem.detail}\n`,
    );
    return REPORT_EXIT.chainBroken;
  } catch (error) {
    return fail(io, request.path, error);
  } finally {
    store.close();
  }
}

function readFlags(args: string[], io: CommandIo, now: number): ReportRequest | number {
  let values: { audit?: string; since?: string; format?: string; verify?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        audit: { type: 'string' },
        since: { type: 'string' },
        format: { type: 'string' },
        verify: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    // parseArgs names the flag or word it could not take in its message.
    return usage(io, error instanceof Error ? error.message : String(error));
  }

  if (values.help === true) {
    io.stdout(USAGE);
    return REPORT_EXIT.ok;
  }

  const path = values.audit ?? DEFAULT_AUDIT_PATH;
  if (path === '') return usage(io, `--audit: expected a file path, got ''`);

  let since: number | undefined;
  if (values.since !== undefined) {
    since = parseSince(values.since, now);
    if (since === undefined) {
      return usage(
        io,
        `--since: '${values.since}' is neither an ISO 8601 time nor a duration such as 24h`,
      );
    }
  }

  const format = values.format ?? 'text';
  if (!isFormat(format)) {
    return usage(io, `--format: '${format}' is not one of ${REPORT_FORMATS.join(', ')}`);
  }

  return { path, since, format, verify: values.verify === true };
}

function isFormat(value: string): value is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(value);
}

function usage(io: CommandIo, message: string): number {
  io.stderr(`voicebridge report: ${message}\n\n${USAGE}`);
  return REPORT_EXIT.usage;
}

function fail(io: CommandIo, path: string, error: unknown): number {
  if (error instanceof AuditError) {
    io.stderr(`voicebridge report: ${error.message}\n`);
    return REPORT_EXIT.usage;
  }
  // A damaged or locked file is a fact about the store, not a fault of this command.
  if (isSqliteError(error)) {
    io.stderr(`voicebridge report: audit store ${path}: ${error.message}\n`);
    return REPORT_EXIT.usage;
  }
  throw error;
}

function isSqliteError(error: unknown): error is Error {
  if (!(error instanceof Error) || !('code' in error)) return false;
  return typeof error.code === 'string' && error.code.startsWith('SQLITE_');
}
