import type { AgentConfig } from '../config/types.js';
import type { AgentSpec } from '../../workers/media/media-messages.js';

/** The agent the media workers make for each call, from the `[agent]` section. */
export function agentSpecFrom(agent: AgentConfig): AgentSpec {
  switch (agent.kind) {
    case 'echo':
      return {
        kind: 'echo',
        delayMs: agent.echo_delay,
        tokensPerSecond: agent.echo_tokens_per_second,
      };
    case 'websocket':
      return {
        kind: 'websocket',
        url: agent.url,
        caFile: agent.ca_file === '' ? undefined : agent.ca_file,
        connectTimeoutMs: agent.connect_timeout,
      };
  }
}
