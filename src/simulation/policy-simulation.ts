import { ManualClock } from '../clock.js';
import type { AuditSink } from '../calls/call-gate.js';
import { createPolicyCore } from '../calls/policy-core.js';
import type { VoiceConfig } from '../config/types.js';
import type { CallSession } from '../engine/call-session.js';
import type { SecurityLog } from '../telemetry/security-log.js';

/** What a simulation run did. */
export interface SimulationSummary {
  simulatedMs: number;
  attempted: number;
  admitted: number;
  denied: Record<string, number>;
  ended: Record<string, number>;
  recordsCommitted: number;
}

/** A caller of the simulated population. */
interface Caller {
  userId: string;
  roomId: string;
  encrypted: boolean;
  /** Calls per simulated hour. */
  rate: number;
  /** Tokens per simulated second while talking. */
  tokensPerSecond: number;
  /** Mean call length in ms when nothing stops it first. */
  meanCallMs: number;
  /** Seconds of silence between bursts of speech (0 = always talking). */
  silentMs: number;
}

/**
 * Runs a population of synthetic callers through the real policy core (admission, budgets,
 * TTLs, audit) on a simulated clock, one simulated second per step. No media and no Matrix:
 * this shows what the policy does with a day's worth of calls in a moment.
 */
export function runPolicySimulation(
  voice: VoiceConfig,
  options: { log: SecurityLog; audit: AuditSink; hours: number; seed?: number; callee?: string },
): SimulationSummary {
  // The simulated hours end now, so the records sit in the past like real ones.
  const clock = new ManualClock(Date.now() - Math.round(options.hours * 3_600_000));
  const startedAt = clock.now();
  const core = createPolicyCore(voice, {
    clock: clock.now,
    log: options.log,
    audit: options.audit,
    callee: options.callee ?? '@voicebridge:localhost',
  });
  const random = seededRandom(options.seed ?? 7);
  const callers = population(voice);
  const summary: SimulationSummary = {
    simulatedMs: 0,
    attempted: 0,
    admitted: 0,
    denied: {},
    ended: {},
    recordsCommitted: 0,
  };

  // When each live call will hang up by itself, and who placed it.
  const hangupAt = new Map<CallSession, number>();
  const callerOf = new Map<CallSession, Caller>();
  const end = (session: CallSession, reason: string): void => {
    hangupAt.delete(session);
    callerOf.delete(session);
    const result = core.gate.end(session, { reason });
    if (result === undefined) return;
    summary.ended[reason] = (summary.ended[reason] ?? 0) + 1;
    if (result.committed) summary.recordsCommitted += 1;
  };
  core.sessions.onStop((session, reason) => end(session, reason));

  const steps = Math.round(options.hours * 3_600);
  const scanEvery = Math.max(1, Math.round(voice.ttl.enforcement_interval / 1_000));
  let callNumber = 0;
  for (let step = 0; step < steps; step++) {
    clock.advance(1_000);
    const now = clock.now();

    for (const caller of callers) {
      if (random() >= caller.rate / 3_600) continue;
      summary.attempted += 1;
      callNumber += 1;
      const result = core.gate.start({
        callId: `sim-${callNumber}`,
        userId: caller.userId,
        roomId: caller.roomId,
        signalingEncrypted: caller.encrypted,
        signalingTls: true,
      });
      if (!result.admitted) {
        summary.denied[result.reason] = (summary.denied[result.reason] ?? 0) + 1;
        if (result.committed) summary.recordsCommitted += 1;
        continue;
      }
      summary.admitted += 1;
      hangupAt.set(result.session, now + caller.meanCallMs * (0.2 + 1.6 * random()));
      callerOf.set(result.session, caller);
    }

    for (const [session, caller] of [...callerOf]) {
      const talking =
        caller.silentMs === 0 ||
        (now - session.reservation.admittedAt) % (caller.silentMs * 2) < caller.silentMs;
      if (talking) {
        core.ttl.touch(session);
        if (caller.tokensPerSecond > 0) {
          core.budget.recordTokenUsage(
            session,
            caller.tokensPerSecond,
            Math.floor(caller.tokensPerSecond / 2),
            'sim-agent',
          );
        }
      }
      if (callerOf.has(session) && now >= (hangupAt.get(session) ?? Infinity))
        end(session, 'caller_hangup');
    }
    if (step % scanEvery === 0) core.ttl.enforceTtl();
  }

  for (const session of [...callerOf.keys()]) end(session, 'shutdown');
  summary.simulatedMs = clock.now() - startedAt;
  return summary;
}

/** A mix of well-behaved, noisy, blocked and silent callers on a few servers. */
function population(voice: VoiceConfig): Caller[] {
  const callers: Caller[] = [];
  const add = (count: number, make: (i: number) => Caller): void => {
    for (let i = 0; i < count; i++) callers.push(make(i));
  };
  add(20, (i) => ({
    userId: `@user${i}:example.org`,
    roomId: `!dm${i}:example.org`,
    encrypted: true,
    rate: 2,
    tokensPerSecond: 20,
    meanCallMs: 4 * 60_000,
    silentMs: 0,
  }));
  add(3, (i) => ({
    userId: `@chatty${i}:example.org`,
    roomId: `!chatty${i}:example.org`,
    encrypted: true,
    rate: 1,
    tokensPerSecond: Math.ceil(voice.default_token_limit / 600),
    meanCallMs: 25 * 60_000,
    silentMs: 0,
  }));
  add(2, (i) => ({
    userId: `@idle${i}:example.org`,
    roomId: `!idle${i}:example.org`,
    encrypted: true,
    rate: 1,
    tokensPerSecond: 0,
    meanCallMs: 50 * 60_000,
    silentMs: voice.ttl.default_ttl * 2,
  }));
  add(1, () => ({
    userId: '@redialer:example.org',
    roomId: '!redial:example.org',
    encrypted: true,
    rate: 60,
    tokensPerSecond: 5,
    meanCallMs: 20_000,
    silentMs: 0,
  }));
  add(1, () => ({
    userId: '@plaintext:example.org',
    roomId: '!unencrypted:example.org',
    encrypted: false,
    rate: 3,
    tokensPerSecond: 5,
    meanCallMs: 60_000,
    silentMs: 0,
  }));
  add(1, () => ({
    userId: '@spammer:spam.example',
    roomId: '!spam:spam.example',
    encrypted: true,
    rate: 20,
    tokensPerSecond: 5,
    meanCallMs: 60_000,
    silentMs: 0,
  }));
  return callers;
}

/** A small deterministic generator (mulberry32), so a run can be repeated. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
