/**
 * The soak runner's settings, from the environment and the command line, each checked: a bad
 * value is a SoakOptionError naming the variable and the value.
 */

/** Raised for a bad setting; the runner prints the message and exits 2. */
export class SoakOptionError extends Error {
  readonly code = 'invalid_option';

  constructor(message: string) {
    super(message);
    this.name = 'SoakOptionError';
  }
}

/** Limits the verdict is judged by; defaults from the hardening guide's soak alerts. */
export interface LeakThresholds {
  /** Memory growth after warm-up (fitted, over the measured span) that warns, in MB. */
  warnMb: number;
  /** ... and that fails, in MB. */
  failMb: number;
  /** A growth rate (95 % interval wholly above it) reported as a suspect below warnMb, MB/hour. */
  suspectMbPerHour: number;
  /**
   * Growth smaller than this over the span measured (the low end of its 95 % interval) is not
   * attributed, in MB: V8 code space and WebAssembly memory grow in steps as a process warms,
   * and a short run cannot tell such steps from a leak.
   */
  resolutionMb: number;
  /** Share of calls that may fail before the run fails, in percent. */
  maxFailedPercent: number;
  /**
   * Main-thread active handles, open file descriptors and OS threads that may differ between
   * the rest at the end of warm-up and the rest at the end before it is a handle leak.
   */
  handleTolerance: number;
}

/** Every setting of a soak run. */
export interface SoakOptions {
  /** Whole run, in seconds, warm-up included. */
  durationS: number;
  /** How long each call lives before it is hung up and replaced, in seconds. */
  rotationS: number;
  /** Calls kept live at once. */
  concurrentCalls: number;
  /** Seconds between samples. */
  sampleIntervalS: number;
  /** Seconds of warm-up before growth is measured. */
  warmupS: number;
  /** Media worker threads of the bridge. */
  mediaWorkers: number;
  /** Caller processes of the fleet. */
  callerProcesses: number;
  /** Write heap snapshots at the end of warm-up and at the end. */
  heapSnapshots: boolean;
  /** Folder for samples, snapshots and the report; undefined picks one. */
  outDir: string | undefined;
  thresholds: LeakThresholds;
}

/** The environment variables read, with their meaning, for `--help`. */
export const SOAK_ENVIRONMENT: readonly [string, string][] = [
  ['TEST_DURATION', 'whole run in seconds, warm-up included (default 3600)'],
  ['CALL_ROTATION', 'seconds a call lives before it is replaced (default 10)'],
  ['CONCURRENT_CALLS', 'calls kept live at once (default 10)'],
  ['SAMPLE_INTERVAL', 'seconds between samples (default: duration / 240, from 1 to 30)'],
  [
    'WARMUP',
    'seconds of warm-up before growth is measured (default: 20 % of the run, at most 600)',
  ],
  ['MEDIA_WORKERS', 'media worker threads of the bridge (default 2)'],
  ['CALLER_PROCESSES', 'caller processes of the fleet (default 2)'],
  ['HEAP_SNAPSHOTS', '1 to write heap snapshots at the end of warm-up and at the end (default 1)'],
  ['LEAK_WARN_MB', 'memory growth after warm-up that warns (default 50)'],
  ['LEAK_FAIL_MB', 'memory growth after warm-up that fails (default 100)'],
  ['LEAK_SUSPECT_MB_PER_HOUR', 'growth rate reported as a suspect below the limits (default 1)'],
  ['LEAK_RESOLUTION_MB', 'growth over the measured span below which nothing is named (default 1)'],
  ['MAX_FAILED_CALLS_PERCENT', 'share of failed calls that fails the run (default 10)'],
  ['HANDLE_TOLERANCE', 'handles, descriptors or threads a rest may gain before a leak (default 8)'],
];

/** Default thresholds: the hardening guide's soak limits. */
export const DEFAULT_THRESHOLDS: LeakThresholds = {
  warnMb: 50,
  failMb: 100,
  suspectMbPerHour: 1,
  resolutionMb: 1,
  maxFailedPercent: 10,
  handleTolerance: 8,
};

type Env = Readonly<Record<string, string | undefined>>;

/** Reads the thresholds from the environment. */
export function thresholdsFrom(env: Env): LeakThresholds {
  const t: LeakThresholds = {
    warnMb: number(env, 'LEAK_WARN_MB', DEFAULT_THRESHOLDS.warnMb, { min: 0 }),
    failMb: number(env, 'LEAK_FAIL_MB', DEFAULT_THRESHOLDS.failMb, { min: 0 }),
    suspectMbPerHour: number(env, 'LEAK_SUSPECT_MB_PER_HOUR', DEFAULT_THRESHOLDS.suspectMbPerHour, {
      min: 0,
    }),
    resolutionMb: number(env, 'LEAK_RESOLUTION_MB', DEFAULT_THRESHOLDS.resolutionMb, { min: 0 }),
    maxFailedPercent: number(env, 'MAX_FAILED_CALLS_PERCENT', DEFAULT_THRESHOLDS.maxFailedPercent, {
      min: 0,
      max: 100,
    }),
    handleTolerance: number(env, 'HANDLE_TOLERANCE', DEFAULT_THRESHOLDS.handleTolerance, {
      min: 0,
      integer: true,
    }),
  };
  if (t.failMb < t.warnMb) {
    throw new SoakOptionError(
      `LEAK_FAIL_MB (${t.failMb}) must not be below LEAK_WARN_MB (${t.warnMb})`,
    );
  }
  return t;
}

/** Reads and checks every setting of a run from the environment and `--out DIR`. */
export function soakOptionsFrom(env: Env, args: readonly string[]): SoakOptions {
  let outDir: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--out') {
      const value = args[i + 1];
      if (value === undefined || value === '' || value.startsWith('--')) {
        throw new SoakOptionError('--out needs a folder, got nothing');
      }
      outDir = value;
      i += 1;
    } else if (arg.startsWith('--out=')) {
      outDir = arg.slice('--out='.length);
      if (outDir === '') throw new SoakOptionError('--out needs a folder, got ""');
    } else {
      throw new SoakOptionError(`unknown argument ${JSON.stringify(arg)}`);
    }
  }

  const durationS = number(env, 'TEST_DURATION', 3600, { min: 1, max: 30 * 86_400 });
  const sampleDefault = Math.min(30, Math.max(1, Math.round(durationS / 240)));
  const warmupDefault = Math.min(600, Math.round(durationS * 0.2));
  const options: SoakOptions = {
    durationS,
    rotationS: number(env, 'CALL_ROTATION', 10, { min: 1, max: 86_400 }),
    concurrentCalls: number(env, 'CONCURRENT_CALLS', 10, { min: 1, max: 500, integer: true }),
    sampleIntervalS: number(env, 'SAMPLE_INTERVAL', sampleDefault, { min: 0.2, max: 3600 }),
    warmupS: number(env, 'WARMUP', warmupDefault, { min: 0 }),
    mediaWorkers: number(env, 'MEDIA_WORKERS', 2, { min: 1, max: 64, integer: true }),
    callerProcesses: number(env, 'CALLER_PROCESSES', 2, { min: 1, max: 64, integer: true }),
    heapSnapshots: flag(env, 'HEAP_SNAPSHOTS', true),
    outDir,
    thresholds: thresholdsFrom(env),
  };
  if (options.warmupS >= options.durationS) {
    throw new SoakOptionError(
      `WARMUP (${options.warmupS} s) must be shorter than TEST_DURATION (${options.durationS} s)`,
    );
  }
  if (options.sampleIntervalS * 3 > options.durationS - options.warmupS) {
    throw new SoakOptionError(
      `SAMPLE_INTERVAL (${options.sampleIntervalS} s) leaves fewer than 3 samples after warm-up ` +
        `in TEST_DURATION ${options.durationS} s with WARMUP ${options.warmupS} s`,
    );
  }
  return options;
}

function number(
  env: Env,
  name: string,
  fallback: number,
  limits: { min?: number; max?: number; integer?: boolean },
): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw.trim());
  const {
    min = Number.NEGATIVE_INFINITY,
    max = Number.POSITIVE_INFINITY,
    integer = false,
  } = limits;
  const kind = integer ? 'an integer' : 'a number';
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw.trim()) || !Number.isFinite(value)) {
    throw new SoakOptionError(`${name} must be ${kind}, got ${JSON.stringify(raw)}`);
  }
  if (integer && !Number.isInteger(value)) {
    throw new SoakOptionError(`${name} must be ${kind}, got ${JSON.stringify(raw)}`);
  }
  if (value < min || value > max) {
    const range = max === Number.POSITIVE_INFINITY ? `at least ${min}` : `from ${min} to ${max}`;
    throw new SoakOptionError(`${name} must be ${range}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (raw === '1' || raw === 'true') return true;
  if (raw === '0' || raw === 'false') return false;
  throw new SoakOptionError(`${name} must be 1 or 0, got ${JSON.stringify(raw)}`);
}
