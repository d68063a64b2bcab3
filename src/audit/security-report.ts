import type { CallState } from './audit-record.js';
import type { PolicyVersionSeen, Tally } from './audit-stats.js';
import type { AuditStore } from './audit-store.js';
import type { ChainVerification } from './chain-verify.js';

export { formatSecurityReport, type ReportFormat } from './security-report-format.js';

/** How many calls the report lists one by one. */
export const RECENT_CALLS = 100;

/** What a security report covers. */
export interface SecurityReportOptions {
  /** Only calls that ended at or after this time (ms since the epoch); all calls when absent. */
  since?: number;
  /** When the report is made (ms since the epoch). */
  now: number;
  /** Also walk the hash chain and include the result. */
  verify?: boolean;
}

/** A reason code and how many calls ended with it. */
export interface ReasonCount {
  reason: string;
  count: number;
}

/** A violation kind and how many times records carry it. */
export interface ViolationCount {
  kind: string;
  count: number;
}

/** One line of the recent-calls list. */
export interface RecentCall {
  call_id: string;
  room_id: string;
  caller: string;
  state: CallState;
  reason: string;
  /** ms since the epoch. */
  start: number;
  /** Milliseconds. */
  duration: number;
  /** Input plus output tokens. */
  tokens: number;
}

/** The security report: plain data, ready to format or to serve as JSON. */
export interface SecurityReport {
  generated_at: number;
  /** The start of the window, or null for every record. */
  since: number | null;
  calls: {
    total: number;
    /** Let in by the policy and ended (state `ended`). */
    ended: number;
    /** Refused by the policy (state `denied`). */
    denied: number;
    /** Broke down before or during the call (state `failed`). */
    failed: number;
  };
  /** Denied calls by denial code, most frequent first. */
  denials_by_reason: ReasonCount[];
  /** Admitted calls by the reason they ended, most frequent first. */
  end_reasons: ReasonCount[];
  /** Failed calls by failure reason, most frequent first. */
  failures_by_reason: ReasonCount[];
  /** Soft-limit overruns by kind, most frequent first. */
  violations_by_kind: ViolationCount[];
  /** Every policy version that decided a call in the window, the earliest first. */
  policy_versions: PolicyVersionSeen[];
  tokens: { input: number; output: number; total: number };
  /** Mean duration in ms of calls that were let in (ended or failed); null if none were. */
  average_duration: number | null;
  /** The latest calls by start time, latest first, at most RECENT_CALLS of them. */
  recent_calls: RecentCall[];
  /** The chain check, when asked for. */
  chain?: ChainVerification;
}

/**
 * Builds the security report from the audit store. Every number is counted in SQL and all of
 * them are read from one snapshot, so they agree with each other even while calls are appended.
 */
export function buildSecurityReport(
  store: AuditStore,
  options: SecurityReportOptions,
): SecurityReport {
  const filter = options.since === undefined ? {} : { since: options.since };

  return store.snapshot((): SecurityReport => {
    const stats = store.stats(filter);
    const recent = store.recent(RECENT_CALLS, filter);
    const { ended, denied, failed } = stats.calls;

    const report: SecurityReport = {
      generated_at: options.now,
      since: options.since ?? null,
      calls: { total: ended + denied + failed, ended, denied, failed },
      denials_by_reason: stats.reasons.denied.map(reasonCount),
      end_reasons: stats.reasons.ended.map(reasonCount),
      failures_by_reason: stats.reasons.failed.map(reasonCount),
      violations_by_kind: stats.violations.map((t) => ({ kind: t.key, count: t.count })),
      policy_versions: stats.policy_versions,
      tokens: {
        input: stats.input_tokens,
        output: stats.output_tokens,
        total: stats.input_tokens + stats.output_tokens,
      },
      average_duration: stats.average_duration,
      recent_calls: recent.map((record) => ({
        call_id: record.call_id,
        room_id: record.room_id,
        caller: record.caller,
        state: record.state,
        reason: record.end_reason,
        start: record.start,
        duration: record.duration,
        tokens: record.token_usage.input_tokens + record.token_usage.output_tokens,
      })),
    };
    if (options.verify === true) report.chain = store.verify();
    return report;
  });
}

function reasonCount(tally: Tally): ReasonCount {
  return { reason: tally.key, count: tally.count };
}
