import { afterEach, describe, expect, it } from 'vitest';

import { F64 } from '../../src/engine/slot-table.js';
import { levelsOf, settle, shutdownEngines, talk, withEngine } from './media-fixtures.js';

afterEach(shutdownEngines);

const setup = (changes: Parameters<typeof withEngine>[0] = {}, tokensPerSecond = 10) =>
  withEngine(changes, { kind: 'echo', delayMs: 0, tokensPerSecond });

describe('media engine', () => {
  it('echoes the caller audio back as Opus RTP with its level, and counts both ways', async () => {
    const { core, call } = await setup();
    const { session, leg, sender } = await call();
    await talk([leg], 100);
    await settle(200);

    expect(sender.packets.length).toBeGreaterThan(50);
    const levels = levelsOf(sender.packets);
    const loud = levels.filter((level) => level > 0.1).length;
    expect(loud).toBeGreaterThan(40);
    const slot = (field: number) => core.slots.get(session.handle.index, field);
    expect(slot(F64.packetsIn)).toBe(100);
    // The worker may have queued a packet or two since the last drain.
    expect(slot(F64.packetsOut) - sender.packets.length).toBeGreaterThanOrEqual(0);
    expect(slot(F64.packetsOut) - sender.packets.length).toBeLessThanOrEqual(3);
    expect(slot(F64.bytesIn)).toBeGreaterThan(100 * 12);
    // Voiced audio refreshed the idle TTL.
    expect(slot(F64.lastActivityAt)).toBeGreaterThan(slot(F64.startedAt));
    // The echo agent reported tokens for the voiced audio it heard, and its model name.
    expect(slot(F64.inputTokens)).toBeGreaterThan(0);
    expect(session.model).toBe('echo');
  });

  it('hears from every worker about its own thread: memory, handles and calls', async () => {
    const { engine, call } = await setup();
    await call();
    const batches: number[] = [];
    engine.onTicks((latenessMs) => batches.push(latenessMs.length));
    await settle(1_300);
    const threads = engine.threadStats();
    expect(threads.map((thread) => thread.loop).sort()).toEqual([0, 1]);
    for (const thread of threads) {
      expect(thread.heapUsed).toBeGreaterThan(1_000_000);
      expect(thread.heapTotal).toBeGreaterThanOrEqual(thread.heapUsed);
      expect(thread.rss).toBeGreaterThan(thread.heapTotal);
      expect(thread.activeHandles).toBeGreaterThan(0);
      expect(thread.agents).toBe(0);
      expect(Date.now() - thread.at).toBeLessThan(5_000);
    }
    expect(threads.map((thread) => thread.calls).sort()).toEqual([0, 1]);
    // Each loop sends its lateness in batches of 50 ticks, about one a second.
    expect(batches.length).toBeGreaterThanOrEqual(2);
    expect(batches.every((count) => count === 50)).toBe(true);
  });

  it('places calls on the least-loaded worker', async () => {
    const { engine, call } = await setup();
    await call();
    await call();
    await call();
    expect(engine.load().sort()).toEqual([1, 2]);
  });

  it('stops a call at its token budget from inside the loop, with a hard stop', async () => {
    const { core, call, stops } = await setup({ default_token_limit: 30 }, 50);
    const { session, leg } = await call();
    await talk([leg], 100);
    await settle(100);
    expect(stops).toEqual([{ callId: session.callId, reason: 'budget_exceeded' }]);
    const [record] = core.audit.recent(1);
    expect(record).toMatchObject({ call_id: session.callId, end_reason: 'budget_exceeded' });
    expect(record?.token_usage.input_tokens).toBeGreaterThanOrEqual(30);
    expect(record?.events.map((e) => e.event)).toContain('voice_budget_enforced');
  });

  it('reports a soft overrun from the loop at once, once, and lets the call go on', async () => {
    const { call, stops } = await setup({ default_token_limit: 30, hard_stop: false }, 50);
    const { session, leg } = await call();
    await talk([leg], 100);
    await settle(100);
    expect(stops).toEqual([]);
    expect(session.violations).toEqual(['budget_exceeded']);
    const names = session.events.map((e) => e.event);
    expect(names.filter((n) => n === 'voice_limit_violation')).toHaveLength(1);
    expect(names).toContain('voice_budget_warning');
  });

  it('ends only the calls of a worker that dies, and a new worker takes its place', async () => {
    const { core, engine, call, stops } = await setup();
    const calls = await Promise.all([call(), call(), call(), call()]);
    expect(engine.load()).toEqual([2, 2]);
    // Kill one worker thread in the middle of the calls.
    const talking = talk(
      calls.map((c) => c.leg),
      50,
    );
    await settle(300);
    await engine.threads[0]?.terminate();
    await talking;
    await settle(300);

    const failed = stops.filter((s) => s.reason === 'media_worker_failed').map((s) => s.callId);
    expect(failed).toHaveLength(2);
    // Both failed calls were on the one loop that died.
    const failedLoops = calls
      .filter((c) => failed.includes(c.session.callId))
      .map((c) => c.leg.loop);
    expect(new Set(failedLoops).size).toBe(1);
    expect(engine.loops).toBe(2);

    // The others still talk: their packets keep coming back.
    const survivors = calls.filter((c) => !failed.includes(c.session.callId));
    const before = survivors.map((c) => c.sender.packets.length);
    await talk(
      survivors.map((c) => c.leg),
      25,
    );
    await settle(200);
    survivors.forEach((c, n) =>
      expect(c.sender.packets.length).toBeGreaterThan(before[n] as number),
    );

    // The failed calls left their records and gave back their slots and reservations.
    const records = core.audit.recent(10).filter((r) => r.end_reason === 'media_worker_failed');
    expect(records.map((r) => r.call_id).sort()).toEqual([...failed].sort());
    expect(core.enforcer.liveCalls).toBe(2);
    expect(core.slots.capacity - core.slots.freeCount).toBe(2);

    // And the replacement worker takes new calls.
    const fresh = await call();
    await talk([fresh.leg], 30);
    await settle(200);
    expect(fresh.sender.packets.length).toBeGreaterThan(10);
  });
});
