import { describe, expect, it } from 'vitest';

import { parseConfig } from '../../src/config/load.js';
import { agentSpecFrom } from '../../src/engine/agent-spec.js';

const secrets = { env: {}, readFile: () => '' };

describe('agent spec from the config', () => {
  it('makes the echo agent by default', () => {
    expect(agentSpecFrom(parseConfig('', 'x', secrets).agent)).toEqual({
      kind: 'echo',
      delayMs: 200,
      tokensPerSecond: 10,
    });
  });

  it('makes a WebSocket agent with its timeout', () => {
    const config = parseConfig(
      '[agent]\nkind = "websocket"\nurl = "wss://127.0.0.1:9000/agent"\nconnect_timeout = "2s"',
      'x',
      secrets,
    );
    expect(agentSpecFrom(config.agent)).toEqual({
      kind: 'websocket',
      url: 'wss://127.0.0.1:9000/agent',
      caFile: undefined,
      connectTimeoutMs: 2_000,
    });
  });
});
