import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { AgentOptionError } from './agent-option-error.js';
import { describeValue } from './agent-message.js';

/** Settings of the WebSocket agent client. */
export interface WebSocketAgentOptions {
  /** The agent's `ws://` or `wss://` URL; one connection is opened to it per call. */
  url: string;
  /**
   * A PEM file of the CA certificates to trust for `wss://`, for an agent whose certificate is
   * not signed by a public CA. It replaces the system's CAs for this agent. Read once, here.
   */
  caFile?: string;
  /** How long opening a call's connection may take, in ms. Default 5,000. */
  connectTimeoutMs?: number;
  /** The most agent frames waiting to be played; beyond it the oldest go. Default 50 (1 s). */
  maxQueuedFrames?: number;
}

/** WebSocket agent settings, checked, with defaults filled in. */
export interface ResolvedWebSocketAgentOptions {
  url: string;
  /** The URL without credentials, query or fragment: safe to put in error messages. */
  shownUrl: string;
  /** The PEM text of `caFile`, if one was given. */
  ca: string | undefined;
  connectTimeoutMs: number;
  maxQueuedFrames: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const MAX_CONNECT_TIMEOUT_MS = 120_000;
const DEFAULT_MAX_QUEUED_FRAMES = 50;
/** One minute of audio: a deeper queue only makes the agent's replies later. */
const MAX_QUEUED_FRAMES = 3_000;

/**
 * Checks WebSocket agent settings and fills in defaults. Throws an AgentOptionError naming the
 * option and its value.
 */
export function resolveWebSocketAgentOptions(
  options: WebSocketAgentOptions,
): ResolvedWebSocketAgentOptions {
  if (typeof options !== 'object' || options === null) {
    throw new AgentOptionError(`options must be an object, got ${describeValue(options)}`);
  }
  const { url, caFile } = options;
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const maxQueuedFrames = options.maxQueuedFrames ?? DEFAULT_MAX_QUEUED_FRAMES;

  const parsed = parseUrl(url);
  integer('connectTimeoutMs', connectTimeoutMs, 1, MAX_CONNECT_TIMEOUT_MS);
  integer('maxQueuedFrames', maxQueuedFrames, 1, MAX_QUEUED_FRAMES);

  let ca: string | undefined;
  if (caFile !== undefined) {
    if (parsed.protocol !== 'wss:') {
      throw new AgentOptionError(
        `caFile is set but url ${describeValue(shownUrl(parsed))} is not wss://`,
      );
    }
    ca = readCa(caFile);
  }

  return { url, shownUrl: shownUrl(parsed), ca, connectTimeoutMs, maxQueuedFrames };
}

function parseUrl(url: unknown): URL {
  let parsed: URL | undefined;
  if (typeof url === 'string') {
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
  }
  if (parsed === undefined || (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:')) {
    const shown = parsed === undefined ? describeValue(url) : describeValue(shownUrl(parsed));
    throw new AgentOptionError(`url must be a ws:// or wss:// URL, got ${shown}`);
  }
  if (parsed.hash !== '') {
    // WebSocket URLs cannot have one (RFC 6455, section 3); the client would refuse it per call.
    throw new AgentOptionError(
      `url must have no fragment, got ${describeValue(shownUrl(parsed))} with one`,
    );
  }
  return parsed;
}

function shownUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

function integer(field: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new AgentOptionError(
      `${field} must be an integer from ${min} to ${max}, got ${describeValue(value)}`,
    );
  }
}

function readCa(caFile: unknown): string {
  if (typeof caFile !== 'string' || caFile.length === 0) {
    throw new AgentOptionError(`caFile must be a file name, got ${describeValue(caFile)}`);
  }

  let pem: string;
  try {
    pem = readFileSync(caFile, 'utf8');
  } catch (error) {
    throw new AgentOptionError(`caFile ${describeValue(caFile)} cannot be read`, {
      cause: error,
    });
  }

  try {
    // Parses the first certificate only; enough to catch a wrong file or a key given as CA.
    new X509Certificate(pem);
  } catch (error) {
    throw new AgentOptionError(`caFile ${describeValue(caFile)} holds no PEM certificate`, {
      cause: error,
    });
  }
  return pem;
}
