import { AudioCore, RegionAllocator, createAudioMemory } from '../../src/engine/audio-core.js';
import { systemClock } from '../../src/clock.js';
import { checkSlot } from '../../src/engine/limit-check.js';
import { I32, SlotTable } from '../../src/engine/slot-table.js';
import { stopReasonCode } from '../../src/engine/stop-reason.js';
import type { Agent, AgentEvents, AgentFactory } from '../agents/agent.js';
import { createEchoAgent } from '../agents/echo-agent.js';
import { MediaCall } from './media-call.js';
import type {
  AgentSpec,
  FromWorker,
  MediaCallSpec,
  MediaLoopTask,
  ToWorker,
  WorkerThreadStats,
} from './media-messages.js';

/** How many tick lateness samples are sent to the main thread at a time. */
const LATENESS_BATCH = 50;

/**
 * The media loop of one worker: one tick every `tickMs` over all of the worker's calls. Calls
 * arrive and leave by message; a call ends through its slot's stop flag (a limit reached here,
 * or a stop raised by the main thread), never by aborting the worker. Resolves on shutdown.
 */
export async function runMediaLoop(task: MediaLoopTask): Promise<void> {
  const { port } = task;
  const shared = AudioCore.instantiate(task.memory, task.module);
  // Jitter buffers and meters are this thread's alone: they live in a memory of its own.
  const local = AudioCore.instantiate(createAudioMemory({ initialPages: 32 }), task.module);
  const allocator = RegionAllocator.forCore(local);
  const slots = SlotTable.open(task.slots);
  const makeAgent = await agentFactory(task.agent);
  const openAgents = await agentSocketCounter(task.agent);
  const calls = new Map<string, MediaCall>();
  const post = (message: FromWorker): void => port.postMessage(message);

  /** Raises a call's stop flag from the worker and tells the main thread. */
  const stop = (call: MediaCall, reason: 'agent_hangup' | 'agent_error', detail?: string): void => {
    if (slots.isLive(call.spec.slot)) slots.raiseStop(call.spec.slot.index, stopReasonCode(reason));
    post({ type: 'check', callId: call.spec.callId, detail });
  };

  const add = (spec: MediaCallSpec): void => {
    let call: MediaCall | undefined;
    let lastModel = '';
    const events: AgentEvents = {
      onUsage: (usage) => {
        if (call === undefined) return;
        call.addUsage(usage.inputTokens, usage.outputTokens);
        // The model name is text, so it travels by message, and only when it changes.
        if (usage.model !== '' && usage.model !== lastModel) {
          lastModel = usage.model;
          post({ type: 'model', callId: spec.callId, model: usage.model });
        }
      },
      onHangup: (reason) => call !== undefined && stop(call, 'agent_hangup', reason),
      onError: (code, message) =>
        call !== undefined && stop(call, 'agent_error', `${code}: ${message}`),
    };
    let agent: Agent | undefined;
    try {
      agent = makeAgent({ callId: spec.callId, roomId: spec.roomId, userId: spec.userId }, events);
      call = new MediaCall(spec, shared, local, allocator, slots, agent);
    } catch (error) {
      // The agent may already hold a connection: close it with the call that never started.
      agent?.close('media_unavailable');
      post({ type: 'add_failed', callId: spec.callId, message: String(error) });
      return;
    }
    calls.set(spec.callId, call);
    post({ type: 'added', callId: spec.callId });
  };

  const remove = (callId: string, reason: string): void => {
    const call = calls.get(callId);
    calls.delete(callId);
    call?.close(reason);
    post({ type: 'removed', callId });
  };

  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  port.on('message', (message: ToWorker) => {
    switch (message.type) {
      case 'add':
        add(message.call);
        break;
      case 'remove':
        remove(message.callId, message.reason);
        break;
      case 'shutdown':
        for (const callId of [...calls.keys()]) remove(callId, 'shutdown');
        done();
        break;
    }
  });

  const lateness: number[] = [];
  const started = performance.now();
  let tickCount = 0;
  let timer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    const scheduled = started + tickCount * task.tickMs;
    const late = Math.max(0, performance.now() - scheduled);
    const now = systemClock();
    for (const call of calls.values()) {
      const { index } = call.spec.slot;
      if (!slots.isLive(call.spec.slot) || slots.load(index, I32.stopReason) !== 0) continue;
      call.tick(now, late);
      if (checkSlot(slots, index, now) !== 0) post({ type: 'check', callId: call.spec.callId });
    }

    lateness.push(late);
    if (lateness.length >= LATENESS_BATCH) {
      const thread = threadStats(calls.size, openAgents());
      post({ type: 'ticks', count: lateness.length, latenessMs: lateness.splice(0), thread });
    }
    tickCount += 1;
    // Schedule against the loop's start, not the last tick, so lateness does not accumulate.
    const next = started + tickCount * task.tickMs - performance.now();
    timer = setTimeout(tick, Math.max(0, next));
  };
  timer = setTimeout(tick, task.tickMs);
  post({ type: 'ready' });

  await finished;
  clearTimeout(timer);
  port.close();
}

/** The figures a worker reports about its own thread. */
function threadStats(calls: number, agents: number): WorkerThreadStats {
  const memory = process.memoryUsage();
  return {
    at: systemClock(),
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    heapTotal: memory.heapTotal,
    external: memory.external,
    arrayBuffers: memory.arrayBuffers,
    activeHandles: process.getActiveResourcesInfo().length,
    calls,
    agents,
  };
}

/** Counts the worker's open agent sockets; echo agents hold none. */
async function agentSocketCounter(spec: AgentSpec): Promise<() => number> {
  if (spec.kind !== 'websocket') return () => 0;
  const { openAgentSockets } = await import('../agents/websocket-agent.js');
  return openAgentSockets;
}

async function agentFactory(spec: AgentSpec): Promise<AgentFactory> {
  switch (spec.kind) {
    case 'echo':
      return createEchoAgent({ delayMs: spec.delayMs, tokensPerSecond: spec.tokensPerSecond });
    case 'websocket': {
      // Loaded only where it is used, so echo-only workers never load a WebSocket client.
      const { createWebSocketAgent } = await import('../agents/websocket-agent.js');
      return createWebSocketAgent({
        url: spec.url,
        caFile: spec.caFile,
        connectTimeoutMs: spec.connectTimeoutMs,
      });
    }
  }
}
