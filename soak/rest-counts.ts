import { fitGrowth } from './growth-fit.js';
import { finite, threadOrder } from './figures.js';
import type { CountCheck, LeakKind, Severity } from './leak-analysis.js';
import type { LeakThresholds } from './soak-options.js';
import type { SampleRecord, StartRecord } from './soak-record.js';

/**
 * The counts that must come back at rest: each compared between the rest at the end of warm-up
 * and the rest at the end, with what it gained per call ended during the soak.
 */
export function restCountChecks(
  soak: readonly SampleRecord[],
  restWarmup: SampleRecord | undefined,
  restEnd: SampleRecord | undefined,
  t: LeakThresholds,
  start: StartRecord | undefined,
): CountCheck[] {
  const checks: CountCheck[] = [];
  const exact = (
    name: string,
    kind: LeakKind,
    read: (s: SampleRecord) => number,
    allowedAtEnd: (atWarmup: number) => number,
    allowed: (atWarmup: number) => string,
    detail?: (warm: SampleRecord | undefined, end: SampleRecord) => string | undefined,
  ): void => {
    const atWarmup = restWarmup === undefined ? undefined : read(restWarmup);
    const atEnd = restEnd === undefined ? undefined : read(restEnd);
    const fit = fitGrowth(
      soak.map((s) => s.callsEnded),
      soak.map(read),
    );
    const limit = allowedAtEnd(atWarmup ?? 0);
    const severity: Severity = atEnd === undefined ? 'inconclusive' : atEnd > limit ? 'fail' : 'ok';
    checks.push({
      name,
      kind,
      severity,
      atWarmup,
      atEnd,
      allowed: allowed(atWarmup ?? 0),
      perCall: fit?.slope,
      perCallLow: finite(fit?.slopeLow),
      perCallHigh: finite(fit?.slopeHigh),
      detail:
        restEnd === undefined || detail === undefined ? undefined : detail(restWarmup, restEnd),
    });
  };
  const zero = (): number => 0;
  const none = (): string => '0';
  const tol = (w: number): number => w + t.handleTolerance;
  const tolText = (w: number): string => `at most ${w + t.handleTolerance}`;

  exact('live calls', 'session leak', (s) => s.resources.liveCalls, zero, none);
  exact('slots in use', 'session leak', (s) => s.resources.slotsUsed, zero, none);
  exact('reservations', 'session leak', (s) => s.resources.reservations, zero, none);
  exact('media calls on the loops', 'session leak', (s) => s.resources.mediaCalls, zero, none);
  exact('audit records pending', 'session leak', (s) => s.resources.auditPending, zero, none);
  exact('open peer connections', 'handle leak', (s) => s.resources.peerConnections, zero, none);
  exact('agent sockets', 'handle leak', (s) => s.resources.agentSockets, zero, none);
  exact(
    'main-thread active handles',
    'handle leak',
    (s) => s.threads.find((x) => x.thread === 'main')?.activeHandles ?? 0,
    tol,
    tolText,
    (warm, end) => handleKindDelta(warm, end),
  );
  const workers = new Set<string>();
  for (const s of [restWarmup, restEnd]) {
    for (const x of s?.threads ?? []) if (x.thread !== 'main') workers.add(x.thread);
  }
  for (const thread of [...workers].sort(threadOrder)) {
    exact(
      `${thread} active handles`,
      'handle leak',
      (s) => s.threads.find((x) => x.thread === thread)?.activeHandles ?? 0,
      tol,
      tolText,
    );
  }
  exact('open file descriptors', 'handle leak', (s) => s.resources.fds, tol, tolText);
  const configured = start?.options.mediaWorkers;
  exact(
    'worker threads',
    'worker leak',
    (s) => s.resources.workerThreads,
    (w) => configured ?? w,
    (w) => `${configured ?? w}`,
  );
  exact(
    'media loops',
    'worker leak',
    (s) => s.resources.mediaLoops,
    (w) => configured ?? w,
    (w) => `${configured ?? w}`,
  );
  exact('OS threads', 'worker leak', (s) => s.resources.osThreads, tol, tolText);
  return checks;
}

/** Which kinds of main-thread handle changed between the two rests. */
function handleKindDelta(warm: SampleRecord | undefined, end: SampleRecord): string | undefined {
  const before = warm?.resources.mainHandlesByKind ?? {};
  const after = end.resources.mainHandlesByKind;
  const changes: string[] = [];
  for (const kind of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const d = (after[kind] ?? 0) - (before[kind] ?? 0);
    if (d !== 0) changes.push(`${kind} ${d > 0 ? '+' : ''}${d}`);
  }
  return changes.length === 0 ? undefined : `by kind: ${changes.join(', ')}`;
}
