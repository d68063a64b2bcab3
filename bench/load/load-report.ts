import type { CallReport } from '../../src/synthetic/call-report.js';
import { percentiles, type Percentiles } from './stats.js';

/** The setup target: invite to answer at p99, ms (stated for 10 calls/s, 50 concurrent). */
export const SETUP_P99_TARGET_MS = 100;
/** The least share of calls that must succeed. */
export const SUCCESS_RATE_TARGET = 0.99;

/** Figures gathered beside the calls themselves. */
export interface RunFigures {
  /** Seconds the calls were placed for, and the whole measured phase lasted. */
  placingSeconds: number;
  phaseSeconds: number;
  /** Live calls with audio flowing, sampled through the steady part of the run. */
  sustained: number[];
  /** Times of `GET /api/calls` under load, ms, and the counts they listed. */
  listingMs: number[];
  listingFailures: number;
  listedCounts: number[];
  /** Epoch ms of each answer in the bridge's own log, by call id. */
  bridgeAnsweredAt: Map<string, number>;
  /** Epoch ms each invite started to be sent, by call id. */
  inviteAt: Map<string, number>;
  /** Tick lateness quantiles over the run, from the bridge's histogram, ms. */
  tickLateness: { p50: number | null; p99: number | null; observations: number };
  /** Packets the bridge received and counted lost from callers during the run. */
  bridgePackets: { received: number; lost: number } | undefined;
  /** The bridge's CPU over the phase, as a share of one core. */
  bridgeCpuShare: number | undefined;
  /** Audit records of the run's calls, by end reason; and calls answered with no record. */
  auditReasons: Record<string, number>;
  auditMissing: number;
  bridgeExitCode: number;
}

/** The run's result, as written to the JSON file. */
export interface LoadResult {
  config: {
    concurrent_calls: number;
    calls_per_second: number;
    test_duration_s: number;
    hold_ms: number;
    caller_processes: number;
    callers: number;
  };
  passed: boolean;
  failures: string[];
  success_rate: number;
  calls_started: number;
  calls_succeeded: number;
  calls_failed: number;
  failures_by_reason: Record<string, number>;
  failure_examples: string[];
  calls_rotated: number;
  sustained_calls: { target: number; p50: number | null; min: number | null };
  setup_ms: Percentiles;
  first_media_ms: Percentiles;
  ice: {
    invite_to_remote_candidates_ms: Percentiles;
    answer_to_connected_ms: Percentiles;
    candidates_send_ms: Percentiles;
    remote_candidates_per_call: number | null;
    remote_candidates_rejected: number;
  };
  setup_profile: {
    placed_to_answer_ms: Percentiles;
    invite_encrypt_ms: Percentiles;
    invite_send_ms: Percentiles;
    invite_to_bridge_answered_ms: Percentiles;
    bridge_answered_to_caller_ms: Percentiles;
    answer_decrypt_ms: Percentiles;
  };
  session_listing_ms: Percentiles & { failures: number; max_listed: number | null };
  packet_loss: number;
  packets: { sent: number; received: number; expected: number; lost: number };
  bridge_packet_loss: number | null;
  tick_lateness_ms: { p50: number | null; p99: number | null; observations: number };
  bridge_cpu_share: number | null;
  audit: { by_reason: Record<string, number>; missing: number };
  bridge_exit_code: number;
  warmup: { calls: number; succeeded: number; setup_ms: Percentiles };
}

/** Puts the calls' reports and the run's figures together and checks them against the targets. */
export function buildResult(
  config: LoadResult['config'],
  calls: CallReport[],
  warmup: CallReport[],
  figures: RunFigures,
): LoadResult {
  const ok = calls.filter((c) => c.ok);
  const failed = calls.filter((c) => !c.ok);
  const byReason: Record<string, number> = {};
  for (const call of failed) {
    const key =
      call.remoteReason === undefined ? call.endReason : `${call.endReason}:${call.remoteReason}`;
    byReason[key] = (byReason[key] ?? 0) + 1;
  }
  const packets = { sent: 0, received: 0, expected: 0, lost: 0 };
  for (const call of calls) {
    packets.sent += call.packets.sent;
    packets.received += call.packets.received;
    packets.expected += call.packets.expected;
    packets.lost += call.packets.lost;
  }
  const answered = calls.filter((c) => c.inviteToAnswerMs !== undefined);
  const bridgeAnswered = answered.map((c) => {
    const at = figures.bridgeAnsweredAt.get(c.callId);
    const invite = figures.inviteAt.get(c.callId);
    return at === undefined || invite === undefined ? undefined : at - invite;
  });
  const successRate = calls.length === 0 ? 0 : ok.length / calls.length;
  const setup = percentiles(calls.map((c) => c.inviteToAnswerMs));
  const sortedSustained = [...figures.sustained].sort((a, b) => a - b);
  const remoteCandidates = answered.reduce((sum, c) => sum + c.ice.remoteCandidates, 0);
  const bridgeLoss =
    figures.bridgePackets === undefined ||
    figures.bridgePackets.received + figures.bridgePackets.lost === 0
      ? null
      : figures.bridgePackets.lost / (figures.bridgePackets.received + figures.bridgePackets.lost);

  const failures: string[] = [];
  if (calls.length === 0) failures.push('no call was placed');
  if (successRate < SUCCESS_RATE_TARGET) {
    failures.push(
      `success rate ${(successRate * 100).toFixed(2)} % is under ${SUCCESS_RATE_TARGET * 100} % (${failed.length} of ${calls.length} calls failed: ${Object.entries(
        byReason,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')})`,
    );
  }
  if (setup.p99 === null || setup.p99 >= SETUP_P99_TARGET_MS) {
    failures.push(
      `invite→answer p99 ${setup.p99 ?? 'n/a'} ms is not under the ${SETUP_P99_TARGET_MS} ms target`,
    );
  }
  if (figures.auditMissing > 0) {
    failures.push(`${figures.auditMissing} answered call(s) have no audit record`);
  }
  if (figures.bridgeExitCode !== 0) {
    failures.push(`the bridge exited with ${figures.bridgeExitCode} on SIGTERM (expected 0)`);
  }

  const warmOk = warmup.filter((c) => c.ok).length;
  return {
    config,
    passed: failures.length === 0,
    failures,
    success_rate: round(successRate, 4),
    calls_started: calls.length,
    calls_succeeded: ok.length,
    calls_failed: failed.length,
    failures_by_reason: byReason,
    failure_examples: failed.slice(0, 5).map((c) => `${c.callId}: ${c.failure ?? c.endReason}`),
    calls_rotated: calls.filter((c) => c.endReason === 'caller_hangup').length,
    sustained_calls: {
      target: config.concurrent_calls,
      p50:
        sortedSustained.length === 0
          ? null
          : (sortedSustained[Math.floor(sortedSustained.length / 2)] as number),
      min: sortedSustained.length === 0 ? null : (sortedSustained[0] as number),
    },
    setup_ms: setup,
    first_media_ms: percentiles(calls.map((c) => c.inviteToFirstMediaMs)),
    ice: {
      invite_to_remote_candidates_ms: percentiles(
        calls.map((c) => c.ice.inviteToRemoteCandidatesMs),
      ),
      answer_to_connected_ms: percentiles(calls.map((c) => c.ice.answerToConnectedMs)),
      candidates_send_ms: percentiles(calls.map((c) => c.ice.candidatesSendMs)),
      remote_candidates_per_call:
        answered.length === 0 ? null : round(remoteCandidates / answered.length, 2),
      remote_candidates_rejected: calls.reduce((sum, c) => sum + c.ice.remoteCandidatesRejected, 0),
    },
    setup_profile: {
      placed_to_answer_ms: percentiles(calls.map((c) => c.placedToAnswerMs)),
      invite_encrypt_ms: percentiles(calls.map((c) => c.inviteEncryptMs)),
      invite_send_ms: percentiles(calls.map((c) => c.inviteSendMs)),
      invite_to_bridge_answered_ms: percentiles(bridgeAnswered),
      bridge_answered_to_caller_ms: percentiles(
        answered.map((c, i) => {
          const bridge = bridgeAnswered[i];
          return bridge === undefined || c.inviteToAnswerMs === undefined
            ? undefined
            : c.inviteToAnswerMs - bridge;
        }),
      ),
      answer_decrypt_ms: percentiles(calls.map((c) => c.answerDecryptMs)),
    },
    session_listing_ms: {
      ...percentiles(figures.listingMs),
      failures: figures.listingFailures,
      max_listed: figures.listedCounts.length === 0 ? null : Math.max(...figures.listedCounts),
    },
    packet_loss: packets.expected === 0 ? 0 : round(packets.lost / packets.expected, 6),
    packets,
    bridge_packet_loss: bridgeLoss === null ? null : round(bridgeLoss, 6),
    tick_lateness_ms: figures.tickLateness,
    bridge_cpu_share:
      figures.bridgeCpuShare === undefined ? null : round(figures.bridgeCpuShare, 3),
    audit: { by_reason: figures.auditReasons, missing: figures.auditMissing },
    bridge_exit_code: figures.bridgeExitCode,
    warmup: {
      calls: warmup.length,
      succeeded: warmOk,
      setup_ms: percentiles(warmup.map((c) => c.inviteToAnswerMs)),
    },
  };
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** The result as a table for the terminal. */
export function formatResult(result: LoadResult): string {
  const ms = (p: Percentiles): string =>
    p.count === 0 ? 'n/a' : `p50 ${p.p50}  p95 ${p.p95}  p99 ${p.p99}  max ${p.max}  (${p.count})`;
  const c = result.config;
  const rows: Array<[string, string]> = [
    [
      'load',
      `${c.concurrent_calls} concurrent, ${c.calls_per_second} calls/s, ${c.test_duration_s} s, hold ${c.hold_ms} ms, ${c.callers} callers in ${c.caller_processes} processes`,
    ],
    ['calls started', String(result.calls_started)],
    [
      'calls succeeded',
      `${result.calls_succeeded}  (success rate ${(result.success_rate * 100).toFixed(2)} %)`,
    ],
    ['calls failed', `${result.calls_failed}  ${JSON.stringify(result.failures_by_reason)}`],
    ['calls rotated', String(result.calls_rotated)],
    [
      'calls sustained',
      `p50 ${result.sustained_calls.p50 ?? 'n/a'}  min ${result.sustained_calls.min ?? 'n/a'}  (target ${result.sustained_calls.target})`,
    ],
    ['invite→answer ms', ms(result.setup_ms)],
    ['invite→first media ms', ms(result.first_media_ms)],
    ['  as the caller sees it ms', ms(result.setup_profile.placed_to_answer_ms)],
    ['  invite encrypt ms', ms(result.setup_profile.invite_encrypt_ms)],
    ['  invite send ms', ms(result.setup_profile.invite_send_ms)],
    ['  invite→bridge answered ms', ms(result.setup_profile.invite_to_bridge_answered_ms)],
    ['  bridge answered→caller sync ms', ms(result.setup_profile.bridge_answered_to_caller_ms)],
    ['  answer decrypt ms', ms(result.setup_profile.answer_decrypt_ms)],
    ['ICE invite→bridge cands ms', ms(result.ice.invite_to_remote_candidates_ms)],
    ['ICE answer→connected ms', ms(result.ice.answer_to_connected_ms)],
    ['ICE own cands send ms', ms(result.ice.candidates_send_ms)],
    [
      'ICE bridge cands/call',
      `${result.ice.remote_candidates_per_call ?? 'n/a'}  (rejected ${result.ice.remote_candidates_rejected})`,
    ],
    [
      'GET /api/calls ms',
      `${ms(result.session_listing_ms)}  failures ${result.session_listing_ms.failures}  max listed ${result.session_listing_ms.max_listed ?? 'n/a'}`,
    ],
    [
      'packet loss bridge→caller',
      `${(result.packet_loss * 100).toFixed(3)} %  (${result.packets.lost} of ${result.packets.expected})`,
    ],
    [
      'packet loss caller→bridge',
      result.bridge_packet_loss === null
        ? 'n/a'
        : `${(result.bridge_packet_loss * 100).toFixed(3)} %`,
    ],
    [
      'tick lateness ms',
      `p50 ${fmt(result.tick_lateness_ms.p50)}  p99 ${fmt(result.tick_lateness_ms.p99)}  (${result.tick_lateness_ms.observations} ticks)`,
    ],
    [
      'bridge CPU (cores)',
      result.bridge_cpu_share === null ? 'n/a' : String(result.bridge_cpu_share),
    ],
    ['audit records', `${JSON.stringify(result.audit.by_reason)}  missing ${result.audit.missing}`],
    [
      'warm-up calls',
      `${result.warmup.succeeded} of ${result.warmup.calls} ok, invite→answer ${ms(result.warmup.setup_ms)}`,
    ],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  const lines = rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`);
  const verdict = result.passed
    ? 'PASSED: every target met'
    : `FAILED:\n${result.failures.map((f) => `  - ${f}`).join('\n')}`;
  return `\nload\n${lines.join('\n')}\n\n${verdict}\n`;
}

function fmt(value: number | null): string {
  return value === null ? 'n/a' : value.toFixed(2);
}
