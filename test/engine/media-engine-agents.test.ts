import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { F64 } from '../../src/engine/slot-table.js';
import { ReferenceAgentServer } from '../workers/agents/reference-agent-server.js';
import { settle, shutdownEngines, talk, withEngine } from './media-fixtures.js';

let server: ReferenceAgentServer;
beforeAll(async () => {
  server = await ReferenceAgentServer.start();
});
afterAll(async () => {
  await server.close();
});
afterEach(shutdownEngines);

const withAgent = (url: string, changes: Parameters<typeof withEngine>[0] = {}) =>
  withEngine(
    { require_signaling_tls: false, ...changes },
    { kind: 'websocket', url, connectTimeoutMs: 2_000 },
  );

describe('media engine with a WebSocket agent', () => {
  it('carries audio to the agent and back, and counts the tokens it reports', async () => {
    const { core, call } = await withAgent(server.url('echo'));
    const { session, leg, sender } = await call();
    await settle(200);
    await talk([leg], 75);
    await settle(300);

    const connection = server.connections.at(-1);
    expect(connection?.start).toMatchObject({ type: 'start', call_id: session.callId });
    expect(connection?.framesHeard).toBeGreaterThan(60);
    expect(sender.packets.length).toBeGreaterThan(30);
    expect(core.slots.get(session.handle.index, F64.inputTokens)).toBeGreaterThan(20);
  });

  it('has each worker report its open agent sockets, and none once the calls have ended', async () => {
    const { engine, call, core } = await withAgent(server.url('echo'));
    const calls = [await call(), await call(), await call()];
    await settle(1_300);
    const open = engine.threadStats();
    expect(open.map((thread) => thread.agents).sort()).toEqual([1, 2]);
    expect(open.map((thread) => thread.calls).sort()).toEqual([1, 2]);

    for (const { session } of calls) core.sessions.stop(session, 'caller_hangup');
    await settle(1_300);
    expect(engine.threadStats().map((thread) => [thread.calls, thread.agents])).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });

  it('ends the call when the agent hangs up', async () => {
    const { call, stops, core } = await withAgent(server.url('hangup'));
    const { session } = await call();
    await settle(500);
    expect(stops).toEqual([{ callId: session.callId, reason: 'agent_hangup' }]);
    expect(core.audit.recent(1)[0]?.end_reason).toBe('agent_hangup');
  });

  it('ends only the call whose agent breaks the protocol, with agent_error', async () => {
    const { call, stops, core } = await withAgent(server.url('garbage'));
    const { session, leg } = await call();
    await settle(500);
    expect(stops).toEqual([{ callId: session.callId, reason: 'agent_error' }]);
    expect(leg.stopDetail).toContain('malformed_message');
    expect(core.audit.recent(1)[0]).toMatchObject({ state: 'failed', end_reason: 'agent_error' });
  });

  it('ends the call with agent_error when the agent cannot be reached', async () => {
    const { call, stops } = await withAgent('ws://127.0.0.1:9/agent');
    const { session } = await call();
    await settle(1_000);
    expect(stops).toEqual([{ callId: session.callId, reason: 'agent_error' }]);
  });
});
