/**
 * The records a soak run appends to its `samples.jsonl`, one JSON object per line, as they
 * happen: a crash or a kill leaves every record written so far, and the report is made from
 * them alone.
 */

/** Memory and handles of one thread, as that thread sees itself. */
export interface ThreadSample {
  /** `main`, or `media-<loop>` for a media worker. */
  thread: string;
  /** Resident set size of the whole process, in bytes (the same for every thread). */
  rss: number;
  /** The thread's own V8 heap, in bytes. */
  heapUsed: number;
  heapTotal: number;
  /** C++ objects bound to the thread's JS objects, and its ArrayBuffers, in bytes. */
  external: number;
  arrayBuffers: number;
  /** Handles and requests keeping the thread's event loop alive. */
  activeHandles: number;
  /** When the thread read these figures (epoch ms); a worker reports every half second. */
  at: number;
}

/** What the bridge holds, counted where it is held. */
export interface ResourceSample {
  /** Calls the call host holds. */
  liveCalls: number;
  /** Slots of the shared slot table in use, and the table's size. */
  slotsUsed: number;
  slotsCapacity: number;
  /** Reservations the security enforcer holds. */
  reservations: number;
  /** Audit records of ended calls not yet committed to the store. */
  auditPending: number;
  /** Native PeerConnections created and not yet confirmed closed. */
  peerConnections: number;
  /** Agent WebSocket connections the media workers hold. */
  agentSockets: number;
  /** Calls placed on the media loops. */
  mediaCalls: number;
  /** Media loops running, and the pool's worker threads. */
  mediaLoops: number;
  workerThreads: number;
  /** Open file descriptors and OS threads of the process (Linux /proc; -1 elsewhere). */
  fds: number;
  osThreads: number;
  /** The main thread's active resources by kind (Timeout, TCPSocketWrap, ...). */
  mainHandlesByKind: Record<string, number>;
}

/**
 * The phases of a run: warm-up; the ramp after the rest at its end, while calls come back to
 * CONCURRENT_CALLS over one rotation; the soak, whose samples are fitted; the drain at the end.
 */
export type SoakPhase = 'warmup' | 'ramp' | 'soak' | 'drain';

/** One sample of every thread and every counted resource. */
export interface SampleRecord {
  kind: 'sample';
  /** Epoch ms. */
  at: number;
  /** Seconds since the run started. */
  elapsed: number;
  phase: SoakPhase;
  /**
   * True for a sample taken at rest: no call live, everything that should have been given back
   * given back, and (on the main thread) after a full garbage collection.
   */
  rest: boolean;
  /**
   * For a rest sample: true when the media workers' figures were reported after a full
   * collection in each of them (writing a worker's heap snapshot collects it first). Worker
   * figures are otherwise whatever garbage the worker holds at that moment.
   */
  workersCollected?: boolean;
  /** Calls started, ended and failed so far. */
  callsStarted: number;
  callsEnded: number;
  callsFailed: number;
  threads: ThreadSample[];
  resources: ResourceSample;
}

/** The settings a run was made with, written first. */
export interface StartRecord {
  kind: 'start';
  at: number;
  options: {
    durationS: number;
    rotationS: number;
    concurrentCalls: number;
    sampleIntervalS: number;
    warmupS: number;
    mediaWorkers: number;
  };
  node: string;
  host: { cpus: number; totalMemory: number };
}

/** One call as the caller saw it. */
export interface CallRecord {
  kind: 'call';
  at: number;
  callId: string;
  ok: boolean;
  /** Why it ended (the caller's or the bridge's reason), or what failed. */
  reason: string;
  durationMs: number;
  packetsSent: number;
  packetsReceived: number;
}

/** A heap snapshot written to the run folder. */
export interface SnapshotRecord {
  kind: 'snapshot';
  at: number;
  /** `warmup` (end of warm-up) or `end`. */
  label: 'warmup' | 'end';
  thread: string;
  /** File name inside the run folder. */
  file: string;
}

/** The phase changed. */
export interface PhaseRecord {
  kind: 'phase';
  at: number;
  phase: SoakPhase;
}

/** The run finished (absent when it was killed). */
export interface EndRecord {
  kind: 'end';
  at: number;
  /** Why it stopped early, if it did. */
  aborted?: string;
}

/** Any line of samples.jsonl. */
export type SoakRecord =
  | StartRecord
  | SampleRecord
  | CallRecord
  | SnapshotRecord
  | PhaseRecord
  | EndRecord;

/** The file name of a run's records inside its folder. */
export const SAMPLES_FILE = 'samples.jsonl';
