import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

import type { AuditRecord } from '../audit/audit-record.js';
import type { CallGate } from '../calls/call-gate.js';
import type { CallSession } from '../engine/call-session.js';
import type { CallSessions } from '../engine/call-sessions.js';
import { readCallStats } from '../engine/call-stats.js';
import type { SecurityPolicy } from '../policy/security-policy.js';
import type { MediaEngine } from '../engine/media-engine.js';
import {
  SECURITY_EVENTS,
  type SecurityEventFields,
  type SecurityEventName,
  type SecurityLog,
} from './security-log.js';

/** What the metrics are read from. */
export interface MetricSources {
  gate: CallGate;
  sessions: CallSessions;
  log: SecurityLog;
  /** The policy in force (it changes on reload). */
  policy: () => SecurityPolicy;
  /** Absent when the process runs no media (policy-only tests). */
  engine?: MediaEngine;
}

/** Media counters of a live call already added to the totals. */
interface CountedMedia {
  packetsIn: number;
  packetsLost: number;
}

/** Histogram buckets of call duration, in seconds: from a refused ring to a long meeting. */
const DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200];
/** Histogram buckets of media tick lateness, in seconds (a tick is 20 ms by default). */
const LATENESS_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25];

/**
 * The bridge's Prometheus metrics, in a registry of their own. Calls and denials are counted
 * from the audit records as the gate writes them, limits from the security events, media
 * counters from the slots (live calls at each scrape, and a call's last figures as it closes),
 * memory from each thread's own report. Reason labels are cut to their code, so that a reason
 * a caller chose cannot grow the label set.
 */
export class BridgeMetrics {
  readonly registry = new Registry();
  readonly #sources: MetricSources;
  /** What each live call's media counters were at the last scrape. */
  readonly #counted = new WeakMap<CallSession, CountedMedia>();
  readonly #unlisten: Array<() => void> = [];

  readonly #callsStarted: Counter;
  readonly #callsEnded: Counter<'reason'>;
  readonly #callsFailed: Counter<'reason'>;
  readonly #callsDenied: Counter<'reason'>;
  readonly #callDuration: Histogram;
  readonly #tokens: Counter<'kind'>;
  readonly #budgetWarnings: Counter;
  readonly #budgetEnforcements: Counter<'limit'>;
  readonly #ttlWarnings: Counter;
  readonly #ttlEnforcements: Counter;
  readonly #expirations: Counter<'ttl'>;
  readonly #violations: Counter<'violation'>;
  readonly #lateness: Histogram;
  readonly #packetsIn: Counter;
  readonly #packetsLost: Counter;
  readonly #threadMemory: Gauge<'thread' | 'kind'>;

  constructor(sources: MetricSources) {
    this.#sources = sources;
    const registers = [this.registry];
    const counter = <L extends string>(name: string, help: string, labels: L[] = []) =>
      new Counter<L>({ name: `voicebridge_${name}`, help, labelNames: labels, registers });

    collectDefaultMetrics({ register: this.registry });
    this.#callsStarted = counter('calls_started_total', 'Calls admitted.');
    this.#callsEnded = counter('calls_ended_total', 'Admitted calls that ended, by reason.', [
      'reason',
    ]);
    this.#callsFailed = counter(
      'calls_failed_total',
      'Admitted calls that ended because something broke (also in calls_ended_total).',
      ['reason'],
    );
    this.#callsDenied = counter('calls_denied_total', 'Calls refused at admission, by reason.', [
      'reason',
    ]);
    this.#callDuration = new Histogram({
      name: 'voicebridge_call_duration_seconds',
      help: 'Duration of admitted calls that ended.',
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#tokens = counter('tokens_used_total', 'Agent tokens used by ended calls.', ['kind']);
    this.#budgetWarnings = counter('budget_warnings_total', 'Token or duration budget warnings.');
    this.#budgetEnforcements = counter(
      'budget_enforcements_total',
      'Calls stopped at a token or duration budget (hard stop).',
      ['limit'],
    );
    this.#ttlWarnings = counter('ttl_warnings_total', 'Session TTL warnings.');
    this.#ttlEnforcements = counter('ttl_enforcements_total', 'Calls stopped at a session TTL.');
    this.#expirations = counter(
      'session_expirations_total',
      'Session TTLs that ran out, stopped or (soft limit) let run.',
      ['ttl'],
    );
    this.#violations = counter(
      'limit_violations_total',
      'Soft limits passed without stopping the call.',
      ['violation'],
    );
    this.#lateness = new Histogram({
      name: 'voicebridge_media_tick_lateness_seconds',
      help: 'How late media loop ticks started.',
      buckets: LATENESS_BUCKETS,
      registers,
    });
    this.#packetsIn = new Counter({
      name: 'voicebridge_media_packets_received_total',
      help: 'RTP packets received from callers.',
      registers,
      // Each scrape brings the live calls' counts up to date (lost packets too, which are
      // registered after this counter and so read after it).
      collect: () => {
        for (const session of sources.sessions.live()) this.#countMedia(session);
      },
    });
    this.#packetsLost = counter('media_packets_lost_total', 'RTP packets from callers never seen.');
    this.#threadMemory = new Gauge({
      name: 'voicebridge_thread_memory_bytes',
      help: 'Memory per thread (heap figures are the thread own; rss is the process).',
      labelNames: ['thread', 'kind'],
      registers,
      collect: () => this.#collectMemory(),
    });
    this.#gauges();

    const { gate, sessions, log, engine } = sources;
    this.#unlisten.push(
      gate.onRecord((record) => this.#onRecord(record)),
      log.listen((event, fields) => this.#onEvent(event, fields)),
      sessions.onClose((session) => this.#countMedia(session)),
    );
    if (engine !== undefined) {
      this.#unlisten.push(
        engine.onTicks((latenessMs) => {
          for (const ms of latenessMs) this.#lateness.observe(ms / 1000);
        }),
      );
    }
  }

  /** The metrics in Prometheus text format. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  /** The content type of `text()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Stops listening to the bridge. */
  close(): void {
    for (const unlisten of this.#unlisten.splice(0)) unlisten();
  }

  /** Gauges read at each scrape. */
  #gauges(): void {
    const registers = [this.registry];
    const { gate, sessions, engine, policy } = this.#sources;
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name: `voicebridge_${name}`,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    gauge('active_calls', 'Calls live now.', () => gate.liveCalls);
    gauge('slots_used', 'Slots of the shared slot table in use.', () => {
      return sessions.slots.capacity - sessions.slots.freeCount;
    });
    gauge('max_concurrent_calls', 'The policy limit on live calls.', () => {
      return policy().voice.max_concurrent_calls;
    });
    gauge('slots_capacity', 'Slots in the shared slot table.', () => sessions.slots.capacity);
    gauge('audit_pending_records', 'Audit records waiting to be committed.', () => {
      return gate.pendingAuditRecords;
    });
    gauge('media_workers', 'Media loops running.', () => engine?.loops ?? 0);
    let failuresCounted = 0;
    new Counter({
      name: 'voicebridge_media_worker_failures_total',
      help: 'Media workers that died (and were replaced).',
      registers,
      collect() {
        const failures = engine?.workerFailures ?? 0;
        this.inc(failures - failuresCounted);
        failuresCounted = failures;
      },
    });
  }

  #onRecord(record: AuditRecord): void {
    const reason = reasonLabel(record.end_reason);
    if (record.state === 'denied') {
      this.#callsDenied.inc({ reason });
      return;
    }
    this.#callsEnded.inc({ reason });
    if (record.state === 'failed') this.#callsFailed.inc({ reason });
    this.#callDuration.observe(record.duration / 1000);
    this.#tokens.inc({ kind: 'input' }, record.token_usage.input_tokens);
    this.#tokens.inc({ kind: 'output' }, record.token_usage.output_tokens);
  }

  #onEvent(event: SecurityEventName, fields: SecurityEventFields): void {
    switch (event) {
      case SECURITY_EVENTS.callRegistered:
        this.#callsStarted.inc();
        break;
      case SECURITY_EVENTS.budgetWarning:
        this.#budgetWarnings.inc();
        break;
      case SECURITY_EVENTS.budgetEnforced:
        this.#budgetEnforcements.inc({ limit: 'tokens' });
        break;
      case SECURITY_EVENTS.durationEnforced:
        this.#budgetEnforcements.inc({ limit: reasonLabel(String(fields.limit)) });
        break;
      case SECURITY_EVENTS.ttlWarning:
        this.#ttlWarnings.inc();
        break;
      case SECURITY_EVENTS.ttlEnforced:
        this.#ttlEnforcements.inc();
        this.#expirations.inc({ ttl: fields.ttl === 'max' ? 'max' : 'idle' });
        break;
      case SECURITY_EVENTS.limitViolation: {
        const violation = reasonLabel(String(fields.violation));
        this.#violations.inc({ violation });
        if (violation === 'ttl_expired') this.#expirations.inc({ ttl: 'idle' });
        if (violation === 'max_ttl_exceeded') this.#expirations.inc({ ttl: 'max' });
        break;
      }
      default:
        break;
    }
  }

  /** Adds what a call's media counters gained since they were last counted. */
  #countMedia(session: CallSession): void {
    const { slots } = this.#sources.sessions;
    if (!slots.isLive(session.handle)) return;
    const stats = readCallStats(slots, session.handle.index);
    const before = this.#counted.get(session) ?? { packetsIn: 0, packetsLost: 0 };
    this.#packetsIn.inc(Math.max(0, stats.packets_in - before.packetsIn));
    this.#packetsLost.inc(Math.max(0, stats.packets_lost - before.packetsLost));
    this.#counted.set(session, {
      packetsIn: Math.max(before.packetsIn, stats.packets_in),
      packetsLost: Math.max(before.packetsLost, stats.packets_lost),
    });
  }

  #collectMemory(): void {
    const gauge = this.#threadMemory;
    gauge.reset();
    const main = process.memoryUsage();
    const set = (thread: string, figures: Record<string, number>): void => {
      for (const [kind, bytes] of Object.entries(figures)) gauge.set({ thread, kind }, bytes);
    };
    set('main', {
      rss: main.rss,
      heap_used: main.heapUsed,
      heap_total: main.heapTotal,
      external: main.external,
      array_buffers: main.arrayBuffers,
    });
    for (const thread of this.#sources.engine?.threadStats() ?? []) {
      set(`media-${thread.loop}`, {
        heap_used: thread.heapUsed,
        heap_total: thread.heapTotal,
        external: thread.external,
        array_buffers: thread.arrayBuffers,
      });
    }
  }
}

/**
 * A reason as a label: its code before any `:` detail (`caller_hangup:user_busy` counts as
 * `caller_hangup`), or `other` when that is not a short code.
 */
export function reasonLabel(reason: string): string {
  const code = reason.split(':', 1)[0] ?? '';
  return /^[a-z][a-z0-9_]{0,63}$/.test(code) ? code : 'other';
}
