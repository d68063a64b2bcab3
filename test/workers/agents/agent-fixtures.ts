import { setTimeout as sleep } from 'node:timers/promises';

import type { AgentErrorCode, AgentEvents, AgentUsage } from '../../../workers/agents/agent.js';
import { FRAME_SAMPLES } from '../../../workers/agents/agent.js';

/** Everything an agent reported, in order, with the events object that records it. */
export interface RecordedEvents {
  events: AgentEvents;
  usage: AgentUsage[];
  hangups: string[];
  errors: { code: AgentErrorCode; message: string }[];
}

/** Agent events that only record what they are told. */
export function recordEvents(): RecordedEvents {
  const recorded: RecordedEvents = {
    usage: [],
    hangups: [],
    errors: [],
    events: {
      onUsage: (usage) => recorded.usage.push(usage),
      onHangup: (reason) => recorded.hangups.push(reason),
      onError: (code, message) => recorded.errors.push({ code, message }),
    },
  };
  return recorded;
}

/** A frame whose samples are a ramp starting at `seed`: every frame of a test is different. */
export function numberedFrame(seed: number): Int16Array {
  const frame = new Int16Array(FRAME_SAMPLES);
  for (let i = 0; i < FRAME_SAMPLES; i += 1) frame[i] = ((seed * 7 + i * 13) % 20_000) - 10_000;
  return frame;
}

/** A frame of silence. */
export function silentFrame(): Int16Array {
  return new Int16Array(FRAME_SAMPLES);
}

/**
 * Polls `condition` until it holds. The bound only keeps a broken test from hanging; nothing is
 * asserted about how long the wait took.
 */
export async function until(condition: () => boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 1_000; attempt += 1) {
    if (condition()) return;
    await sleep(10);
  }
  throw new Error(`gave up waiting for ${what}`);
}
