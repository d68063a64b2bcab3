import { describe, expect, it } from 'vitest';

import type { AgentUsage } from '../../../workers/agents/agent.js';
import { createEchoAgent } from '../../../workers/agents/echo-agent.js';

function frameOf(value: number): Int16Array {
  return new Int16Array(960).fill(value);
}

function echo(delayMs: number, tokensPerSecond = 10) {
  const usage: AgentUsage[] = [];
  const agent = createEchoAgent({ delayMs, tokensPerSecond })(
    { callId: 'c', roomId: '!r:example.org', userId: '@u:example.org' },
    { onUsage: (u) => usage.push(u), onHangup: () => {}, onError: () => {} },
  );
  return { agent, usage };
}

describe('echo agent', () => {
  it('plays each frame back after the delay, in order', () => {
    const { agent } = echo(60);
    const spoken: Array<number | undefined> = [];
    for (let tick = 1; tick <= 6; tick++) {
      agent.hear(frameOf(tick), true);
      spoken.push(agent.speak()?.[0]);
    }
    expect(spoken).toEqual([undefined, undefined, undefined, 1, 2, 3]);
  });

  it('plays back at once with no delay', () => {
    const { agent } = echo(0);
    agent.hear(frameOf(7), false);
    expect(agent.speak()?.[0]).toBe(7);
  });

  it('does not keep the frame it was given: the caller may reuse the buffer', () => {
    const { agent } = echo(20);
    const buffer = frameOf(1);
    agent.hear(buffer, true);
    agent.speak();
    buffer.fill(9);
    agent.hear(buffer, true);
    expect(agent.speak()?.[0]).toBe(1);
  });

  it('reports tokens for voiced audio only, at the configured rate', () => {
    const { agent, usage } = echo(0, 10);
    for (let i = 0; i < 100; i++) {
      agent.hear(frameOf(1), i < 50);
      agent.speak();
    }
    agent.close('caller_hangup');
    const total = usage.reduce((sum, u) => sum + u.inputTokens, 0);
    expect(total).toBe(10);
    expect(usage.reduce((sum, u) => sum + u.outputTokens, 0)).toBe(10);
    expect(usage[0]?.model).toBe('echo');
  });

  it('says nothing after close', () => {
    const { agent } = echo(0);
    agent.close('shutdown');
    agent.hear(frameOf(1), true);
    expect(agent.speak()).toBeUndefined();
  });
});
