import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { AuditRecord } from '../../src/audit/audit-record.js';
import { CallHost, type CallSignals } from '../../src/calls/call-host.js';
import { defaultConfig } from '../../src/config/load.js';
import { readCallStats } from '../../src/engine/call-stats.js';
import { MediaEngine } from '../../src/engine/media-engine.js';
import type { LocalCandidate } from '../../src/transport/index.js';
import { SineCaller, levelsOf } from '../engine/media-fixtures.js';
import { callFrom } from '../policy/helpers.js';
import { assertLoopbackOnly } from '../transport/fixtures/loopback-only.js';
import { TestCaller } from '../transport/fixtures/test-caller.js';
import { until } from '../transport/fixtures/wait.js';
import { coreWith } from './core-fixture.js';

/** The caller's side of the signaling, wired straight to a TestCaller. */
class DirectSignals implements CallSignals {
  answered = false;
  hangups: Array<{ reason: string; record: AuditRecord }> = [];
  constructor(readonly caller: TestCaller) {}
  answer(sdp: string): void {
    this.answered = true;
    this.caller.acceptAnswer(sdp);
  }
  candidates(batch: LocalCandidate[]): void {
    this.caller.addRemoteCandidates(batch);
  }
  hangup(reason: string, record: AuditRecord): void {
    this.hangups.push({ reason, record });
  }
}

const engines: MediaEngine[] = [];
beforeAll(() => assertLoopbackOnly());
afterAll(async () => {
  await Promise.all(engines.map((engine) => engine.shutdown()));
});

async function hostWith(changes: Parameters<typeof coreWith>[0] = {}, tokensPerSecond = 10) {
  const core = coreWith({ default_token_limit: 1_000_000, ...changes });
  core.clock.set(Date.now());
  const engine = await MediaEngine.start({
    sessions: core.sessions,
    workers: 1,
    tickMs: 20,
    agent: { kind: 'echo', delayMs: 100, tokensPerSecond },
  });
  engines.push(engine);
  const host = new CallHost(core, engine, defaultConfig().media);
  return { core, engine, host };
}

async function place(host: CallHost, userId = '@alice:example.org') {
  const caller = new TestCaller(`caller-${Math.random()}`, { payloadType: 111 });
  const signals = new DirectSignals(caller);
  const context = callFrom(userId);
  const offer = await caller.offer;
  const result = await host.accept({ context, offerSdp: offer, signals });
  if (result.accepted) {
    caller.forwardCandidatesTo((c) => {
      try {
        result.call.addRemoteCandidate({ candidate: c.candidate, sdpMid: c.sdpMid });
      } catch {
        // A candidate for a call that has ended is dropped, as the Matrix layer would.
      }
    });
  }
  return { caller, signals, result, context };
}

/** The caller speaks a sine for `count` frames over its real WebRTC track. */
async function speak(caller: TestCaller, count: number): Promise<void> {
  const sine = new SineCaller(caller.payloadType, caller.ssrc);
  for (let i = 0; i < count; i++) {
    caller.send(sine.next());
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  sine.close();
}

describe('call host over real WebRTC', () => {
  it('answers a call and echoes the caller audio back through a media worker', async () => {
    const { host, core } = await hostWith();
    const { caller, signals, result } = await place(host);
    expect(result.accepted).toBe(true);
    if (!result.accepted) return;
    expect(signals.answered).toBe(true);

    await until(() => caller.trackOpen, 'the caller track to open');
    await speak(caller, 100);
    await until(() => caller.received.length > 40, 'echoed packets');

    const levels = levelsOf(caller.received);
    expect(levels.filter((level) => level > 0.1).length).toBeGreaterThan(20);
    const stats = readCallStats(core.slots, result.call.session.handle.index);
    expect(stats.packets_in).toBeGreaterThan(80);
    expect(stats.packets_out).toBeGreaterThan(40);

    const record = await host.hangupByCaller(result.call.callId);
    expect(record).toMatchObject({ state: 'ended', end_reason: 'caller_hangup' });
    expect(signals.hangups).toEqual([]);
    expect(host.liveCalls).toBe(0);
    expect(core.enforcer.liveCalls).toBe(0);
    caller.close();
  });

  it('hangs up on the caller at the token budget, after committing the record', async () => {
    const { host, core } = await hostWith({ default_token_limit: 20 }, 50);
    const { caller, signals, result } = await place(host);
    if (!result.accepted) throw new Error(result.reason);
    await until(() => caller.trackOpen, 'the caller track to open');
    await speak(caller, 100);
    await until(() => signals.hangups.length === 1, 'the hangup');

    expect(signals.hangups[0]?.reason).toBe('budget_exceeded');
    const [stored] = core.audit.recent(1);
    expect(stored?.call_id).toBe(result.call.callId);
    expect(stored?.end_reason).toBe('budget_exceeded');
    expect(core.slots.freeCount).toBe(core.slots.capacity);
    caller.close();
  });

  it('refuses a blocked caller with an audit record and opens no media', async () => {
    const { host, core, engine } = await hostWith({ blocked_users: ['@mallory:example.org'] });
    const { caller, result } = await place(host, '@mallory:example.org');
    expect(result.accepted).toBe(false);
    if (result.accepted) return;
    expect(result.reason).toBe('user_blocked');
    expect(core.audit.recent(1)[0]?.end_reason).toBe('user_blocked');
    expect(engine.load()).toEqual([0]);
    caller.close();
  });

  it('refuses an offer it cannot answer, and frees the call', async () => {
    const { host, core } = await hostWith();
    const signals = new DirectSignals(new TestCaller('unused'));
    const result = await host.accept({
      context: callFrom(),
      offerSdp: 'v=0\r\nthis is not an offer\r\n',
      signals,
    });
    expect(result).toMatchObject({ accepted: false, reason: 'invalid_offer' });
    expect(core.audit.recent(1)[0]).toMatchObject({ state: 'failed', end_reason: 'invalid_offer' });
    expect(core.enforcer.liveCalls).toBe(0);
    expect(core.slots.freeCount).toBe(core.slots.capacity);
    signals.caller.close();
  });
});
