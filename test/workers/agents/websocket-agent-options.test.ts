import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { AgentOptionError } from '../../../workers/agents/agent-option-error.js';
import {
  resolveWebSocketAgentOptions,
  type WebSocketAgentOptions,
} from '../../../workers/agents/websocket-agent-options.js';

const folder = mkdtempSync(join(tmpdir(), 'voicebridge-agent-options-'));

afterAll(() => {
  rmSync(folder, { recursive: true, force: true });
});

function rejection(options: WebSocketAgentOptions): AgentOptionError {
  try {
    resolveWebSocketAgentOptions(options);
  } catch (error) {
    if (error instanceof AgentOptionError) return error;
    throw error;
  }
  throw new Error('the options were accepted');
}

describe('WebSocket agent options', () => {
  it('fills in a 5 s connect timeout and a 50-frame queue', () => {
    expect(resolveWebSocketAgentOptions({ url: 'ws://127.0.0.1:9000/agent' })).toEqual({
      url: 'ws://127.0.0.1:9000/agent',
      shownUrl: 'ws://127.0.0.1:9000/agent',
      ca: undefined,
      connectTimeoutMs: 5_000,
      maxQueuedFrames: 50,
    });
  });

  it('shows the URL without its credentials or query', () => {
    const resolved = resolveWebSocketAgentOptions({ url: 'wss://u:p@agent.test/a?token=t' });

    expect(resolved.shownUrl).toBe('wss://agent.test/a');
  });

  it.each([
    [
      { url: 'http://127.0.0.1/agent' },
      'url must be a ws:// or wss:// URL, got "http://127.0.0.1/agent"',
    ],
    [{ url: 'not a url' }, 'url must be a ws:// or wss:// URL, got "not a url"'],
    [{ url: 42 as unknown as string }, 'got 42'],
    [{ url: 'ws://h/a#part' }, 'url must have no fragment, got "ws://h/a" with one'],
    [
      { url: 'ws://h/', connectTimeoutMs: 0 },
      'connectTimeoutMs must be an integer from 1 to 120000, got 0',
    ],
    [
      { url: 'ws://h/', connectTimeoutMs: 1.5 },
      'connectTimeoutMs must be an integer from 1 to 120000, got 1.5',
    ],
    [
      { url: 'ws://h/', maxQueuedFrames: 0 },
      'maxQueuedFrames must be an integer from 1 to 3000, got 0',
    ],
    [{ url: 'ws://h/', maxQueuedFrames: 5_000 }, 'got 5000'],
    [{ url: 'ws://h/', caFile: 'ca.pem' }, 'caFile is set but url "ws://h/" is not wss://'],
  ])('rejects %j, naming the option and the value', (options, message) => {
    const error = rejection(options);

    expect(error.code).toBe('invalid_option');
    expect(error.message).toContain(message);
  });

  it('rejects a CA file that cannot be read', () => {
    const missing = join(folder, 'missing.pem');

    expect(rejection({ url: 'wss://h/', caFile: missing }).message).toBe(
      `caFile ${JSON.stringify(missing)} cannot be read`,
    );
  });

  it('rejects a CA file that holds no certificate', () => {
    const notPem = join(folder, 'not.pem');
    writeFileSync(notPem, 'hello\n');

    expect(rejection({ url: 'wss://h/', caFile: notPem }).message).toContain('holds no PEM');
  });
});
