import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { AgentContext, AgentErrorCode } from '../../../workers/agents/agent.js';
import {
  createWebSocketAgent,
  type WebSocketAgent,
} from '../../../workers/agents/websocket-agent.js';
import { numberedFrame, recordEvents, until } from './agent-fixtures.js';
import { ReferenceAgentServer, type AgentBehaviour } from './reference-agent-server.js';

let server: ReferenceAgentServer;
const agents: WebSocketAgent[] = [];

beforeEach(async () => {
  server = await ReferenceAgentServer.start();
});

afterEach(async () => {
  for (const agent of agents.splice(0)) agent.close('test_over');
  await server.close();
});

function context(callId: string): AgentContext {
  return { callId, roomId: '!room:example.org', userId: '@alice:example.org' };
}

/** Each misbehaviour, the code it must give, and what the message must name. */
const MISBEHAVIOURS: [AgentBehaviour, AgentErrorCode, string][] = [
  ['garbage', 'malformed_message', 'kind byte is 0x07'],
  ['empty', 'malformed_message', 'message is empty'],
  ['text', 'malformed_message', 'message is text'],
  ['wrong_length', 'malformed_message', 'length is 1920 bytes, expected 1921'],
  ['not_msgpack', 'malformed_message', 'not one msgpack value'],
  ['not_a_map', 'malformed_message', 'control message is an array'],
  ['no_type', 'malformed_message', 'field type is undefined'],
  ['bad_hangup', 'malformed_message', 'hangup field reason is 42'],
  ['oversized', 'oversized_message', '65536 bytes'],
  ['unknown_type', 'unexpected_message', 'type "dance" is unknown'],
  ['send_start', 'unexpected_message', 'type "start" is sent only by the bridge'],
  ['send_ended', 'unexpected_message', 'type "ended" is sent only by the bridge'],
  ['bad_usage', 'invalid_usage', 'input_tokens is -1'],
  ['bad_model', 'invalid_usage', 'model is a string of 201 characters'],
  ['close_cleanly', 'agent_disconnected', 'close code 1000'],
  ['close_abruptly', 'agent_disconnected', 'connection'],
];

describe('WebSocket agent facing a misbehaving agent', () => {
  it.each(MISBEHAVIOURS)(
    'reports %s once as %s and closes its socket',
    async (behaviour, code, named) => {
      const recorded = recordEvents();
      const agent = createWebSocketAgent({ url: server.url(behaviour) })(
        context(`call-${behaviour}`),
        recorded.events,
      );
      agents.push(agent);

      await until(() => recorded.errors.length > 0, 'the error');
      // The media loop keeps calling in while the error is on its way; none of it may throw.
      expect(() => {
        agent.hear(numberedFrame(1), true);
        agent.speak();
      }).not.toThrow();
      await until(() => agent.stats().state === 'closed', 'the socket to close');
      await until(() => server.connections[0]?.closeCode !== undefined, 'the server to see it');

      expect(recorded.errors.map((error) => error.code)).toEqual([code]);
      expect(recorded.errors[0]?.message).toContain(named);
      expect(recorded.usage).toEqual([]);
      expect(recorded.hangups).toEqual([]);
      expect(agent.speak()).toBeUndefined();
      expect(() => agent.close('user_hangup')).not.toThrow();
      expect(recorded.errors).toHaveLength(1);
    },
  );

  it('closes with 1002 and the error code after a protocol breach', async () => {
    const recorded = recordEvents();
    const agent = createWebSocketAgent({ url: server.url('unknown_type') })(
      context('call-1'),
      recorded.events,
    );
    agents.push(agent);

    await until(() => server.connections[0]?.closeCode !== undefined, 'the close at the server');

    expect(server.connections[0]?.closeCode).toBe(1002);
    expect(server.connections[0]?.controls).toEqual([]);
  });

  it('keeps serving a well-behaved agent while another call’s agent misbehaves', async () => {
    const good = recordEvents();
    const bad = recordEvents();
    const goodAgent = createWebSocketAgent({ url: server.url('echo') })(
      context('call-good'),
      good.events,
    );
    const badAgent = createWebSocketAgent({ url: server.url('garbage') })(
      context('call-bad'),
      bad.events,
    );
    agents.push(goodAgent, badAgent);

    await until(() => bad.errors.length === 1, 'the bad agent to fail');
    await until(() => goodAgent.stats().state === 'open', 'the good agent to open');
    for (let i = 0; i < 10; i += 1) {
      goodAgent.hear(numberedFrame(i), true);
      badAgent.hear(numberedFrame(i), true);
    }
    const frames: Int16Array[] = [];
    await until(() => {
      for (let frame = goodAgent.speak(); frame !== undefined; frame = goodAgent.speak()) {
        frames.push(frame.slice());
      }
      return frames.length === 10 && good.usage.length === 10;
    }, 'the good agent to echo ten frames');

    expect(frames).toEqual(Array.from({ length: 10 }, (_, i) => numberedFrame(i)));
    expect(good.errors).toEqual([]);
    expect(bad.errors.map((error) => error.code)).toEqual(['malformed_message']);
    expect(badAgent.speak()).toBeUndefined();
  });
});
