import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { AgentContext } from '../../../workers/agents/agent.js';
import {
  createWebSocketAgent,
  type WebSocketAgent,
} from '../../../workers/agents/websocket-agent.js';
import { numberedFrame, recordEvents, until } from './agent-fixtures.js';
import { ReferenceAgentServer } from './reference-agent-server.js';
import {
  hasOpenssl,
  makeSelfSignedCertificate,
  type SelfSignedCertificate,
} from './self-signed-certificate.js';

const CONTEXT: AgentContext = {
  callId: 'call-tls',
  roomId: '!room:example.org',
  userId: '@alice:example.org',
};

const openssl = hasOpenssl();

describe.skipIf(!openssl)('WebSocket agent over wss (needs the openssl command)', () => {
  let certificate: SelfSignedCertificate;
  let server: ReferenceAgentServer;
  const agents: WebSocketAgent[] = [];

  beforeAll(async () => {
    certificate = makeSelfSignedCertificate();
    server = await ReferenceAgentServer.start({ cert: certificate.cert, key: certificate.key });
  });

  afterAll(async () => {
    for (const agent of agents) agent.close('test_over');
    await server.close();
    certificate.remove();
  });

  it('connects and round-trips audio when given the CA file', async () => {
    const recorded = recordEvents();
    const agent = createWebSocketAgent({ url: server.url(), caFile: certificate.certFile })(
      CONTEXT,
      recorded.events,
    );
    agents.push(agent);
    await until(() => agent.stats().state === 'open', 'the connection');

    agent.hear(numberedFrame(5), true);
    let echoed: Int16Array | undefined;
    await until(() => (echoed = agent.speak()?.slice()) !== undefined, 'the echo');

    expect(server.url().startsWith('wss://')).toBe(true);
    expect(echoed).toEqual(numberedFrame(5));
    expect(recorded.errors).toEqual([]);
  });

  it('reports agent_unreachable without the CA file', async () => {
    const recorded = recordEvents();
    const agent = createWebSocketAgent({ url: server.url() })(CONTEXT, recorded.events);
    agents.push(agent);

    await until(() => recorded.errors.length > 0, 'the error');
    await until(() => agent.stats().state === 'closed', 'the socket to close');

    expect(recorded.errors).toHaveLength(1);
    expect(recorded.errors[0]?.code).toBe('agent_unreachable');
    expect(recorded.errors[0]?.message).toContain('certificate');
  });
});
