import type { SampleRecord, SoakRecord } from '../../soak/soak-record.js';

/** Bytes in a MB. */
export const MB = 1024 * 1024;

/**
 * A run's records, made up for the report's own tests: one sample a second, a rest at 10 s
 * and at the end; `mainHeap(seconds)` gives the main thread's heap in bytes.
 */
export function madeUpRun(options: {
  seconds: number;
  mainHeap: (t: number) => number;
  restEnd?: Partial<SampleRecord['resources']>;
  failed?: number;
  /** The first worker's ArrayBuffer memory in bytes; 0.5 MB by default. */
  workerBuffers?: (t: number, rest: boolean) => number;
  /** Whether the rest samples follow a collection in the workers. */
  workersCollected?: boolean;
}): SoakRecord[] {
  const t0 = 1_700_000_000_000;
  const records: SoakRecord[] = [
    {
      kind: 'start',
      at: t0,
      options: {
        durationS: options.seconds,
        rotationS: 5,
        concurrentCalls: 4,
        sampleIntervalS: 1,
        warmupS: 10,
        mediaWorkers: 1,
      },
      node: process.version,
      host: { cpus: 2, totalMemory: 4e9 },
    },
  ];
  const sample = (t: number, phase: SampleRecord['phase'], rest: boolean): SampleRecord => ({
    kind: 'sample',
    at: t0 + t * 1000,
    elapsed: t,
    phase,
    rest,
    ...(rest && options.workersCollected !== undefined
      ? { workersCollected: options.workersCollected }
      : {}),
    callsStarted: Math.floor(t),
    callsEnded: Math.floor(t),
    callsFailed: 0,
    threads: [
      {
        thread: 'main',
        rss: 200 * MB,
        heapUsed: options.mainHeap(t),
        heapTotal: 80 * MB,
        external: 5 * MB,
        arrayBuffers: 2 * MB,
        activeHandles: 20,
        at: t0 + t * 1000,
      },
      {
        thread: 'media-0',
        rss: 200 * MB,
        heapUsed: 10 * MB + ((t * 7) % 3) * 0.1 * MB,
        heapTotal: 20 * MB,
        external: 1 * MB,
        arrayBuffers: options.workerBuffers?.(t, rest) ?? 0.5 * MB,
        activeHandles: 3,
        at: t0 + t * 1000,
      },
    ],
    resources: {
      liveCalls: rest ? 0 : 4,
      slotsUsed: rest ? 0 : 4,
      slotsCapacity: 40,
      reservations: rest ? 0 : 4,
      auditPending: 0,
      peerConnections: rest ? 0 : 4,
      agentSockets: 0,
      mediaCalls: rest ? 0 : 4,
      mediaLoops: 1,
      workerThreads: 1,
      fds: 40,
      osThreads: 30,
      mainHandlesByKind: { Timeout: 5, TCPSocketWrap: 15 },
    },
  });
  records.push(
    sample(10, 'warmup', true),
    { kind: 'phase', at: t0 + 10_000, phase: 'ramp' },
    { kind: 'phase', at: t0 + 10_500, phase: 'soak' },
  );
  for (let t = 11; t < options.seconds; t++) records.push(sample(t, 'soak', false));
  const end = sample(options.seconds, 'drain', true);
  Object.assign(end.resources, options.restEnd ?? {});
  records.push(end);
  for (let i = 0; i < 100; i++) {
    records.push({
      kind: 'call',
      at: t0 + i,
      callId: `c${i}`,
      ok: i >= (options.failed ?? 0),
      reason: i >= (options.failed ?? 0) ? 'caller_hangup' : 'answer_timeout',
      durationMs: 5000,
      packetsSent: 250,
      packetsReceived: 240,
    });
  }
  records.push({ kind: 'end', at: t0 + options.seconds * 1000 + 1 });
  return records;
}

/** Deterministic noise of about 0.2 MB. */
export const wobble = (t: number): number => (((t * 7919) % 13) / 13 - 0.5) * 0.2 * MB;
