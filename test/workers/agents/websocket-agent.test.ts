import { createServer, type AddressInfo } from 'node:net';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { AgentContext } from '../../../workers/agents/agent.js';
import { createWebSocketAgent, WebSocketAgent } from '../../../workers/agents/websocket-agent.js';
import {
  numberedFrame,
  recordEvents,
  silentFrame,
  until,
  type RecordedEvents,
} from './agent-fixtures.js';
import { ReferenceAgentServer, type ReferenceConnection } from './reference-agent-server.js';

const CONTEXT: AgentContext = {
  callId: 'call-1',
  roomId: '!room:example.org',
  userId: '@alice:example.org',
};

let server: ReferenceAgentServer;
const agents: WebSocketAgent[] = [];

beforeEach(async () => {
  server = await ReferenceAgentServer.start();
});

afterEach(async () => {
  for (const agent of agents.splice(0)) agent.close('test_over');
  await server.close();
});

/** Opens an agent to the reference server and waits until the server has its `start`. */
async function openAgent(
  url: string,
  context: AgentContext = CONTEXT,
  options: { maxQueuedFrames?: number } = {},
): Promise<{ agent: WebSocketAgent; recorded: RecordedEvents; connection: ReferenceConnection }> {
  const recorded = recordEvents();
  const before = server.connections.length;
  const agent = createWebSocketAgent({ url, ...options })(context, recorded.events);
  agents.push(agent);
  await until(() => server.connections[before]?.start !== undefined, 'the start message');
  return { agent, recorded, connection: server.connections[before] as ReferenceConnection };
}

/** Calls `speak` until `count` frames came out, copying each (the agent reuses its buffers). */
async function spoken(agent: WebSocketAgent, count: number): Promise<Int16Array[]> {
  const frames: Int16Array[] = [];
  await until(() => {
    for (let frame = agent.speak(); frame !== undefined; frame = agent.speak()) {
      frames.push(frame.slice());
    }
    return frames.length >= count;
  }, `${count} frames from the agent`);
  return frames;
}

describe('WebSocket agent against the reference agent', () => {
  it('sends start with the call, room, user and audio format first', async () => {
    const { agent, connection } = await openAgent(server.url());

    expect(connection.start).toEqual({
      type: 'start',
      call_id: 'call-1',
      room_id: '!room:example.org',
      user_id: '@alice:example.org',
      sample_rate: 48_000,
      frame_samples: 960,
      encoding: 'pcm_s16le',
    });
    expect(agent.stats().state).toBe('open');
    expect(connection.violations).toEqual([]);
  });

  it('gets back from speak, byte for byte and in order, every frame it heard', async () => {
    const { agent, recorded, connection } = await openAgent(server.url());
    const heard = Array.from({ length: 20 }, (_, i) => numberedFrame(i));

    for (const frame of heard) agent.hear(frame, true);
    const frames = await spoken(agent, heard.length);

    expect(frames).toEqual(heard);
    expect(agent.speak()).toBeUndefined();
    expect(agent.stats()).toMatchObject({
      toAgent: { sent: 20, dropped: 0 },
      fromAgent: { received: 20, dropped: 0, queued: 0 },
    });
    expect(connection.violations).toEqual([]);
    expect(recorded.errors).toEqual([]);
  });

  it('sends silent frames too, so the agent hears a steady clock', async () => {
    const { agent, connection } = await openAgent(server.url());

    for (let i = 0; i < 5; i += 1) agent.hear(silentFrame(), false);
    await until(() => connection.framesHeard === 5, 'five frames at the server');

    expect(agent.stats().toAgent.sent).toBe(5);
  });

  it('passes usage reports to onUsage', async () => {
    const { agent, recorded } = await openAgent(server.url());

    agent.hear(numberedFrame(1), true);
    agent.hear(silentFrame(), false);
    agent.hear(numberedFrame(2), true);
    await until(() => recorded.usage.length === 2, 'two usage reports');

    expect(recorded.usage).toEqual([
      { inputTokens: 1, outputTokens: 1, model: 'reference' },
      { inputTokens: 1, outputTokens: 1, model: 'reference' },
    ]);
    expect(recorded.errors).toEqual([]);
  });

  it('accepts a message of exactly the 64 KiB limit', async () => {
    const { recorded } = await openAgent(server.url('largest_usage'));

    await until(() => recorded.usage.length === 1, 'the padded usage report');

    expect(recorded.usage).toEqual([{ inputTokens: 7, outputTokens: 0, model: 'big' }]);
    expect(recorded.errors).toEqual([]);
  });

  it('passes a hangup and its reason to onHangup and keeps the audio flowing', async () => {
    const { agent, recorded } = await openAgent(server.url('hangup'));
    await until(() => recorded.hangups.length === 1, 'the hangup');

    agent.hear(numberedFrame(3), true);
    const frames = await spoken(agent, 1);

    expect(recorded.hangups).toEqual(['caller_satisfied']);
    expect(frames).toEqual([numberedFrame(3)]);
    expect(recorded.errors).toEqual([]);
  });

  it('takes a hangup with no reason as agent_hangup, and the agent leaving after it as no error', async () => {
    const { agent, recorded } = await openAgent(server.url('hangup_and_leave'));

    await until(() => agent.stats().state === 'closed', 'the agent to leave');

    expect(recorded.hangups).toEqual(['agent_hangup']);
    expect(recorded.errors).toEqual([]);
  });

  it('sends ended with the reason, then closes with 1000, on close', async () => {
    const { agent, connection } = await openAgent(server.url());

    agent.close('budget_exceeded');
    await until(() => connection.closeCode !== undefined, 'the close at the server');

    expect(connection.controls).toEqual([{ type: 'ended', reason: 'budget_exceeded' }]);
    expect(connection.closeCode).toBe(1000);
    expect(agent.stats().state).toBe('closed');
  });

  it('closes only once however often close is called, and reports nothing after', async () => {
    const { agent, recorded, connection } = await openAgent(server.url());

    agent.close('user_hangup');
    agent.close('again');
    agent.hear(numberedFrame(1), true);
    await until(() => agent.stats().state === 'closed', 'the socket to close');
    await until(() => connection.closeCode !== undefined, 'the close at the server');

    expect(connection.controls).toEqual([{ type: 'ended', reason: 'user_hangup' }]);
    expect(agent.speak()).toBeUndefined();
    expect(recorded).toMatchObject({ usage: [], hangups: [], errors: [] });
  });

  it('drops and counts frames heard while the socket is still connecting', async () => {
    const recorded = recordEvents();
    const agent = createWebSocketAgent({ url: server.url() })(CONTEXT, recorded.events);
    agents.push(agent);

    agent.hear(numberedFrame(1), true);
    agent.hear(numberedFrame(2), true);
    await until(() => server.connections[0]?.start !== undefined, 'the start message');

    expect(agent.stats().toAgent).toMatchObject({ sent: 0, dropped: 2 });
    expect(server.connections[0]?.framesHeard).toBe(0);
  });

  it('drops, without throwing, a frame of the wrong length', async () => {
    const { agent, connection } = await openAgent(server.url());

    expect(() => agent.hear(new Int16Array(100), true)).not.toThrow();

    expect(agent.stats().toAgent).toMatchObject({ sent: 0, dropped: 1 });
    expect(connection.violations).toEqual([]);
  });

  it('closed while connecting, reports nothing and never reaches the agent', async () => {
    const recorded = recordEvents();
    const agent = createWebSocketAgent({ url: server.url() })(CONTEXT, recorded.events);

    agent.close('user_hangup');
    await until(() => agent.stats().state === 'closed', 'the socket to close');

    expect(recorded.errors).toEqual([]);
    expect(server.connections.every((connection) => connection.start === undefined)).toBe(true);
  });

  it('keeps working when an event handler throws, and counts it', async () => {
    const { agent, recorded } = await openAgent(server.url());
    recorded.events.onUsage = () => {
      throw new Error('handler bug');
    };

    agent.hear(numberedFrame(1), true);
    agent.hear(numberedFrame(2), true);
    const frames = await spoken(agent, 2);
    await until(() => agent.stats().callbackErrors === 2, 'both usage reports');

    expect(frames).toEqual([numberedFrame(1), numberedFrame(2)]);
    expect(agent.stats().state).toBe('open');
  });
});

describe('WebSocket agent queues', () => {
  it('keeps at most maxQueuedFrames of the agent audio, dropping the oldest', async () => {
    const { agent, recorded } = await openAgent(server.url('flood', 500), CONTEXT, {
      maxQueuedFrames: 10,
    });

    await until(() => agent.stats().fromAgent.received === 500, 'the flood');
    const stats = agent.stats();
    const frames = await spoken(agent, 10);

    expect(stats.fromAgent).toEqual({ received: 500, dropped: 490, queued: 10 });
    expect(frames.map((frame) => frame[0])).toEqual([
      490, 491, 492, 493, 494, 495, 496, 497, 498, 499,
    ]);
    expect(recorded.errors).toEqual([]);
  });

  it('drops caller frames instead of buffering without bound when the agent stops reading', async () => {
    const { agent, recorded } = await openAgent(server.url('stall'));
    const frame = numberedFrame(1);
    let largestBuffer = 0;

    // About 60 MB of audio offered at once: far more than the kernel's socket buffers hold.
    const offered = 30_000;
    for (let i = 0; i < offered; i += 1) {
      agent.hear(frame, true);
      largestBuffer = Math.max(largestBuffer, agent.stats().toAgent.bufferedBytes);
    }
    const { toAgent } = agent.stats();

    expect(toAgent.sent + toAgent.dropped).toBe(offered);
    expect(toAgent.dropped).toBeGreaterThan(0);
    // The bound (50 frames), plus the one message let through just under it with its 8 bytes
    // of WebSocket framing.
    expect(largestBuffer).toBeLessThanOrEqual(50 * 1921 + 1921 + 8);
    expect(recorded.errors).toEqual([]);
  });
});

describe('WebSocket agent failures that are not the agent’s messages', () => {
  it('reports agent_unreachable once for a port where nothing listens', async () => {
    const port = await freePort();
    const recorded = recordEvents();
    const agent = createWebSocketAgent({ url: `ws://127.0.0.1:${port}/agent` })(
      CONTEXT,
      recorded.events,
    );
    agents.push(agent);

    await until(() => recorded.errors.length > 0, 'the error');
    await until(() => agent.stats().state === 'closed', 'the socket to close');

    expect(recorded.errors).toHaveLength(1);
    expect(recorded.errors[0]?.code).toBe('agent_unreachable');
    expect(recorded.errors[0]?.message).toContain(`"ws://127.0.0.1:${port}/agent"`);
    expect(recorded.errors[0]?.message).toContain('ECONNREFUSED');
  });

  it('reports agent_unreachable when the handshake is never answered', async () => {
    const recorded = recordEvents();
    const agent = createWebSocketAgent({ url: server.url('never_answer'), connectTimeoutMs: 200 })(
      CONTEXT,
      recorded.events,
    );
    agents.push(agent);

    await until(() => recorded.errors.length > 0, 'the error');
    await until(() => agent.stats().state === 'closed', 'the socket to close');

    expect(recorded.errors).toHaveLength(1);
    expect(recorded.errors[0]?.code).toBe('agent_unreachable');
    expect(recorded.errors[0]?.message).toContain('connectTimeoutMs 200');
  });

  it('reports agent_unreachable, after returning, when the socket cannot even be made', async () => {
    const recorded = recordEvents();
    // The options check refuses such a URL; the agent must still cope if handed one.
    const agent = new WebSocketAgent(CONTEXT, recorded.events, {
      url: 'ws://127.0.0.1:1/agent#fragment',
      shownUrl: 'ws://127.0.0.1:1/agent',
      ca: undefined,
      connectTimeoutMs: 1_000,
      maxQueuedFrames: 50,
    });
    const reportedDuringConstruction = recorded.errors.length;

    await until(() => recorded.errors.length > 0, 'the error');

    expect(reportedDuringConstruction).toBe(0);
    expect(recorded.errors.map((error) => error.code)).toEqual(['agent_unreachable']);
    expect(agent.stats().state).toBe('closed');
    expect(() => agent.hear(numberedFrame(1), true)).not.toThrow();
  });

  it('keeps credentials and query out of error messages', async () => {
    const port = await freePort();
    const recorded = recordEvents();
    const url = `ws://user:secret@127.0.0.1:${port}/agent?token=hunter2`;
    const agent = createWebSocketAgent({ url })(CONTEXT, recorded.events);
    agents.push(agent);

    await until(() => recorded.errors.length > 0, 'the error');

    expect(recorded.errors[0]?.message).not.toContain('secret');
    expect(recorded.errors[0]?.message).not.toContain('hunter2');
  });
});

/** A loopback port that was free a moment ago, with nothing listening on it now. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
