import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { CallerInfo, FromCallerMessage, ToCallerMessage } from './caller-protocol.js';
import { failedCallReport, type CallReport } from './call-report.js';

/** How long a process may take to register its callers and open their rooms, ms. */
const SETUP_TIMEOUT_MS = 120_000;
/** How long `stop` waits for a process to hang up, close and exit before killing it, ms. */
const STOP_TIMEOUT_MS = 15_000;

/** How to start a fleet. */
export interface CallerFleetOptions {
  /** `https://...` of the homeserver. */
  homeserverUrl: string;
  /** The homeserver's CA (PEM), for a development homeserver's own certificate. */
  caPem?: string;
  /** The bot every caller calls. */
  botUserId: string;
  /** Caller processes to start, at least 1. */
  processes: number;
  /** Caller accounts in all, spread evenly over the processes; at least `processes`. */
  callers: number;
  /** Prefix of the callers' user names. Default `caller`. */
  namePrefix?: string;
  /** The compiled caller process entry. Default: the package's dist/src/synthetic/caller-process.js. */
  entry?: string;
}

/** One call to place. */
export interface PlaceCallOptions {
  /** Which caller places it (a user id from `callers`); default: the one with fewest calls. */
  userId?: string;
  /** The call id; default a random one. */
  callId?: string;
  /** How long the call stays up after its answer, ms. */
  holdMs: number;
  /** How long to wait for the answer, ms. Default 10 s. */
  answerTimeoutMs?: number;
  /** How long after the answer the audio may take to come back, ms. Default 10 s. */
  mediaTimeoutMs?: number;
}

/** A call on its way, as `placeCall` returns it. */
export interface PlacedCall {
  callId: string;
  userId: string;
  /** Resolves when the answer is in; never rejects, never resolves for a call that fails first. */
  answered: Promise<void>;
  /** Resolves when audio first came back. */
  media: Promise<void>;
  /** Resolves with the call's report when it has ended, whatever the ending. Never rejects. */
  report: Promise<CallReport>;
}

/** One caller process and what it owes. */
interface CallerProcess {
  child: ChildProcess;
  callers: CallerInfo[];
  /** Calls placed and not yet reported, by call id. */
  pending: Map<string, PendingCall>;
  exited: Promise<void>;
  /** Why the process is gone, once it is. */
  gone: string | undefined;
}

interface PendingCall {
  userId: string;
  resolveAnswered: () => void;
  resolveMedia: () => void;
  resolveReport: (report: CallReport) => void;
}

/** Every fleet's children, killed on exit whatever happens to the parent. */
const everyChild = new Set<ChildProcess>();
let exitHookInstalled = false;

function killAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of everyChild) child.kill('SIGKILL');
  });
}

/**
 * Synthetic callers in child processes, driven from the parent: `start` forks `processes` caller
 * processes (the compiled `caller-process.js`), each registering its share of `callers` on the
 * homeserver with an encrypted DM with the bot; `placeCall` has one of them place a real call
 * (see SyntheticCall) and resolves its report when it ends; `stop` hangs every call up, closes
 * every account and waits for each process to exit, killing any that overrun.
 *
 * No process is left behind: children exit on their own when the parent's IPC channel closes
 * (the parent died), and the parent kills any that remain when it exits. A child that dies
 * mid-run fails its calls with end reason `error` and the exit as the failure.
 */
export class CallerFleet {
  /** Every caller account, with its DM room. */
  readonly callers: readonly CallerInfo[];
  readonly #processes: CallerProcess[];
  /** Which process holds each caller. */
  readonly #owner = new Map<string, CallerProcess>();
  /** Live calls per caller, for choosing the least busy one. */
  readonly #load = new Map<string, number>();
  #stopping: Promise<void> | undefined;

  private constructor(processes: CallerProcess[]) {
    this.#processes = processes;
    this.callers = processes.flatMap((p) => p.callers);
    for (const p of processes) {
      for (const caller of p.callers) {
        this.#owner.set(caller.userId, p);
        this.#load.set(caller.userId, 0);
      }
    }
  }

  /**
   * Starts the processes and waits until every caller is registered with its DM open. Throws
   * (after stopping what started) if an option is bad or a process fails to set up.
   */
  static async start(options: CallerFleetOptions): Promise<CallerFleet> {
    const { processes, callers } = options;
    if (!Number.isInteger(processes) || processes < 1) {
      throw new TypeError(`processes must be an integer of at least 1, got ${String(processes)}`);
    }
    if (!Number.isInteger(callers) || callers < processes) {
      throw new TypeError(
        `callers must be an integer of at least processes (${processes}), got ${String(callers)}`,
      );
    }
    killAllOnExit();
    const started: CallerProcess[] = [];
    try {
      const setups: Array<Promise<void>> = [];
      for (let i = 0; i < processes; i++) {
        const share = Math.floor(callers / processes) + (i < callers % processes ? 1 : 0);
        const proc = spawnCaller(options.entry ?? defaultEntry());
        started.push(proc);
        setups.push(
          setUp(proc, {
            type: 'setup',
            homeserverUrl: options.homeserverUrl,
            caPem: options.caPem,
            botUserId: options.botUserId,
            callers: share,
            namePrefix: `${options.namePrefix ?? 'caller'}${i}x`,
          }),
        );
      }
      await Promise.all(setups);
    } catch (error) {
      await Promise.all(started.map((p) => stopProcess(p)));
      throw error;
    }
    return new CallerFleet(started);
  }

  /** Calls placed and not yet ended. */
  get liveCalls(): number {
    let live = 0;
    for (const p of this.#processes) live += p.pending.size;
    return live;
  }

  /** Places one call; see PlacedCall. After `stop` began, the report says the call failed. */
  placeCall(options: PlaceCallOptions): PlacedCall {
    const callId = options.callId ?? `synthetic-${randomBytes(8).toString('hex')}`;
    const userId = options.userId ?? this.#leastBusy();
    const owner = this.#owner.get(userId);
    let resolveAnswered: () => void = () => undefined;
    let resolveMedia: () => void = () => undefined;
    let resolveReport: (report: CallReport) => void = () => undefined;
    const answered = new Promise<void>((resolve) => (resolveAnswered = resolve));
    const media = new Promise<void>((resolve) => (resolveMedia = resolve));
    const report = new Promise<CallReport>((resolve) => (resolveReport = resolve));
    const placed = { callId, userId, answered, media, report };

    const refuse = (why: string): PlacedCall => {
      resolveReport(failedCallReport(callId, userId, '', why));
      return placed;
    };
    if (owner === undefined) return refuse(`no caller ${userId} in this fleet`);
    if (this.#stopping !== undefined) return refuse('the fleet is stopping');
    if (owner.gone !== undefined) return refuse(owner.gone);
    if (owner.pending.has(callId)) return refuse(`call id ${callId} is already in use`);

    this.#load.set(userId, (this.#load.get(userId) ?? 0) + 1);
    owner.pending.set(callId, {
      userId,
      resolveAnswered,
      resolveMedia,
      resolveReport: (result) => {
        this.#load.set(userId, Math.max(0, (this.#load.get(userId) ?? 1) - 1));
        resolveReport(result);
      },
    });
    post(owner, {
      type: 'place',
      callId,
      userId,
      holdMs: Math.round(options.holdMs),
      answerTimeoutMs: Math.round(options.answerTimeoutMs ?? 10_000),
      mediaTimeoutMs: Math.round(options.mediaTimeoutMs ?? 10_000),
    });
    return placed;
  }

  /** Hangs one call up early; its report will say `stopped`. */
  hangup(callId: string): void {
    for (const p of this.#processes) {
      if (p.pending.has(callId)) post(p, { type: 'hangup', callId });
    }
  }

  /**
   * Hangs every call up (their reports resolve, `stopped`), closes every account and waits for
   * every process to exit; one that takes longer than 15 s is killed. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= Promise.all(this.#processes.map((p) => stopProcess(p))).then(
      () => undefined,
    );
    return this.#stopping;
  }

  #leastBusy(): string {
    let best: string | undefined;
    let bestLoad = Number.POSITIVE_INFINITY;
    for (const [userId, load] of this.#load) {
      if (load < bestLoad && this.#owner.get(userId)?.gone === undefined) {
        best = userId;
        bestLoad = load;
      }
    }
    if (best === undefined) throw new Error('no caller left in the fleet');
    return best;
  }
}

/** dist/src/synthetic/caller-process.js, found from the package root above this module. */
function defaultEntry(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the package root of the caller fleet');
    dir = parent;
  }
  return join(dir, 'dist', 'src', 'synthetic', 'caller-process.js');
}

function spawnCaller(entry: string): CallerProcess {
  const child = fork(entry, [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  everyChild.add(child);
  const proc: CallerProcess = {
    child,
    callers: [],
    pending: new Map(),
    gone: undefined,
    exited: new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        everyChild.delete(child);
        proc.gone = `caller process ${child.pid ?? '?'} exited (${signal ?? `code ${code ?? '?'}`})`;
        // Calls it still owed a report fail with that as the reason.
        for (const [callId, pending] of proc.pending) {
          pending.resolveReport(failedCallReport(callId, pending.userId, '', proc.gone));
        }
        proc.pending.clear();
        resolve();
      });
    }),
  };
  child.on('error', () => undefined);
  child.on('message', (message: FromCallerMessage) => {
    if (message.type === 'progress') {
      const pending = proc.pending.get(message.callId);
      if (message.stage === 'answered') pending?.resolveAnswered();
      else pending?.resolveMedia();
    } else if (message.type === 'ended') {
      const pending = proc.pending.get(message.report.callId);
      proc.pending.delete(message.report.callId);
      pending?.resolveReport(message.report);
    }
  });
  return proc;
}

function setUp(proc: CallerProcess, setup: ToCallerMessage): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`caller process setup took over ${SETUP_TIMEOUT_MS} ms`)),
      SETUP_TIMEOUT_MS,
    );
    const onMessage = (message: FromCallerMessage): void => {
      if (message.type === 'ready') {
        proc.callers = message.callers;
        done();
        resolve();
      } else if (message.type === 'fatal') {
        done();
        reject(new Error(`caller process setup failed: ${message.error}`));
      }
    };
    const onExit = (): void => {
      done();
      reject(new Error(proc.gone ?? 'caller process exited during setup'));
    };
    const done = (): void => {
      clearTimeout(timer);
      proc.child.off('message', onMessage);
      proc.child.off('exit', onExit);
    };
    proc.child.on('message', onMessage);
    proc.child.once('exit', onExit);
    post(proc, setup);
  });
}

function post(proc: CallerProcess, message: ToCallerMessage): void {
  if (proc.gone !== undefined || !proc.child.connected) return;
  proc.child.send(message, (error) => {
    if (error !== null && error !== undefined) proc.child.kill('SIGKILL');
  });
}

async function stopProcess(proc: CallerProcess): Promise<void> {
  if (proc.gone === undefined) post(proc, { type: 'stop' });
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await proc.exited;
  clearTimeout(timer);
}
