import { performance } from 'node:perf_hooks';

import { describe, expect, it } from 'vitest';

import { startHarness } from './helpers.js';
import { startLoadGenerator } from './load-generator.js';

// Bounded capacity runs on loopback: a fixed amount of work from a load generator in another
// process, asserting only that all of it was done right. The figures go to the test output;
// the CPU figure is this process's, which is the server's work plus the test's small share.
// Larger runs: DEVSERVER_CAPACITY_SENDS=20000 DEVSERVER_CAPACITY_SYNCERS=4000.

/** Sends in the send run, and how many are in flight at once. */
const SENDS = Number(process.env.DEVSERVER_CAPACITY_SENDS ?? 2000);
const SENDS_IN_FLIGHT = 32;
/** Users long-polling at once in the sync run. */
const SYNCERS = Number(process.env.DEVSERVER_CAPACITY_SYNCERS ?? 500);

/** Percent of one core this process used since `start`, over `seconds`. */
function corePercent(start: NodeJS.CpuUsage, seconds: number): string {
  const used = process.cpuUsage(start);
  return (((used.user + used.system) / 1e6 / seconds) * 100).toFixed(0);
}

describe('capacity on loopback', () => {
  it(`stores ${SENDS} sends from another process, each once`, async () => {
    const harness = await startHarness();
    const alice = await harness.register('alice');
    const roomId = await alice.createRoom();
    const before = harness.server.stats().streamPosition;

    const cpu = process.cpuUsage();
    const load = startLoadGenerator({
      mode: 'sends',
      url: harness.server.url,
      ca: harness.server.caPem,
      token: alice.token,
      roomId,
      count: SENDS,
      width: SENDS_IN_FLIGHT,
    });
    const result = await load.next<{ stored: number; seconds: number }>();

    expect(result.stored).toBe(SENDS);
    expect(harness.server.stats().streamPosition - before).toBe(SENDS);
    expect(await load.exited).toBe(0);
    console.info(
      `devserver capacity: ${SENDS} sends, ${SENDS_IN_FLIGHT} in flight: ` +
        `${(SENDS / result.seconds).toFixed(0)} sends/s, ` +
        `server process at ${corePercent(cpu, result.seconds)}% of a core`,
    );
  }, 120_000);

  it(`holds ${SYNCERS} long-polling syncs and wakes them all with one request`, async () => {
    const harness = await startHarness();
    const host = await harness.register('host');
    const load = startLoadGenerator({
      mode: 'syncers',
      url: harness.server.url,
      ca: harness.server.caPem,
      count: SYNCERS,
    });

    const { waiting } = await load.next<{ waiting: string[] }>();
    await expect
      .poll(() => harness.server.stats().waitingSyncs, { timeout: 60_000, interval: 20 })
      .toBe(SYNCERS);
    const heapMb = process.memoryUsage().heapUsed / 2 ** 20;
    const messages = Object.fromEntries(waiting.map((userId) => [userId, { '*': { n: 1 } }]));
    const started = performance.now();
    await host.ok('PUT', 'sendToDevice/org.example.wake/1', { messages });
    const { woken } = await load.next<{ woken: number }>();
    const wakeMs = performance.now() - started;

    expect(woken).toBe(SYNCERS);
    expect(await load.exited).toBe(0);
    console.info(
      `devserver capacity: ${SYNCERS} concurrent long-polls held ` +
        `(server heap ${heapMb.toFixed(0)} MB); one request woke all in ${wakeMs.toFixed(0)} ms`,
    );
  }, 120_000);
});
