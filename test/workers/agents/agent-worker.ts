import { parentPort, workerData } from 'node:worker_threads';

import { FRAME_SAMPLES } from '../../../workers/agents/agent.js';
import { createWebSocketAgent } from '../../../workers/agents/websocket-agent.js';
import type { WebSocketAgentStats } from '../../../workers/agents/websocket-agent-stats.js';

/** What the worker is asked to do. */
export interface AgentWorkerData {
  url: string;
  /** Frames to hear once the agent is open; the worker stops early on an error. */
  frames: number;
}

/** Sent when the agent's connection is open. */
export interface AgentWorkerOpen {
  kind: 'open';
}

/** Sent when the worker's loop is over. */
export interface AgentWorkerReport {
  kind: 'report';
  /** Frames that came back from `speak` holding exactly what was heard, in order. */
  echoed: number;
  /** Frames that came back from `speak` out of order or changed. */
  mismatched: number;
  errors: string[];
  inputTokens: number;
  stats: WebSocketAgentStats;
}

/*
 * A stand-in for a media worker: one 20 ms tick loop that drives one call's agent the way the
 * media loop does, hear then speak on every tick.
 */
const { url, frames } = workerData as AgentWorkerData;
const port = parentPort;
if (port === null) throw new Error('agent-worker runs only as a worker thread');

const errors: string[] = [];
let inputTokens = 0;
const agent = createWebSocketAgent({ url })(
  { callId: 'call-worker', roomId: '!room:example.org', userId: '@alice:example.org' },
  {
    onUsage: (usage) => (inputTokens += usage.inputTokens),
    onHangup: () => undefined,
    onError: (code) => errors.push(code),
  },
);

const frame = new Int16Array(FRAME_SAMPLES);
let heard = 0;
let echoed = 0;
let mismatched = 0;
let openSent = false;
let idleTicks = 0;

const tick = setInterval(() => {
  const open = agent.stats().state === 'open';
  if (open && !openSent) {
    openSent = true;
    port.postMessage({ kind: 'open' } satisfies AgentWorkerOpen);
  }

  if (open && heard < frames) {
    fillFrame(frame, heard);
    agent.hear(frame, true);
    heard += 1;
  } else {
    idleTicks += open || errors.length > 0 ? 1 : 0;
  }

  const spoken = agent.speak();
  if (spoken !== undefined) {
    if (sameAsFrame(spoken, echoed)) echoed += 1;
    else mismatched += 1;
  }

  // Done once every frame came back, or after an error, or when echoes stop coming.
  if (echoed + mismatched === frames || errors.length > 0 || idleTicks > 250) finish();
}, 20);

function finish(): void {
  clearInterval(tick);
  port?.postMessage({
    kind: 'report',
    echoed,
    mismatched,
    errors,
    inputTokens,
    stats: agent.stats(),
  } satisfies AgentWorkerReport);
  agent.close('worker_done');
}

function fillFrame(into: Int16Array, seed: number): void {
  for (let i = 0; i < into.length; i += 1) into[i] = ((seed * 31 + i * 7) % 4_000) - 2_000;
}

function sameAsFrame(candidate: Int16Array, seed: number): boolean {
  for (let i = 0; i < candidate.length; i += 1) {
    if (candidate[i] !== ((seed * 31 + i * 7) % 4_000) - 2_000) return false;
  }
  return candidate.length === FRAME_SAMPLES;
}
