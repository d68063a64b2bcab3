import { C1, Unpackr } from 'msgpackr';

import type { AgentErrorCode, AgentUsage } from './agent.js';
import {
  AUDIO_KIND,
  AUDIO_MESSAGE_BYTES,
  CONTROL_KIND,
  DEFAULT_HANGUP_REASON,
  MAX_MODEL_LENGTH,
  MAX_REASON_LENGTH,
} from './agent-protocol.js';

/** What one message from an agent turned out to be once checked. */
export type AgentMessage =
  /** One frame of the agent's audio: the message itself, its length already checked. */
  | { kind: 'audio'; message: Uint8Array }
  | { kind: 'usage'; usage: AgentUsage }
  | { kind: 'hangup'; reason: string }
  /** A breach of the protocol; `message` names the field and the value. */
  | { kind: 'violation'; code: AgentErrorCode; message: string };

/** The model recorded when a usage report names none. */
export const UNNAMED_MODEL = 'unknown';

// Agents are untrusted: no shared record structures (one call's agent could otherwise shape
// how another's messages decode) and no structured-clone references.
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, structuredClone: false });

/** Checks one binary message from an agent and says what it is. Never throws. */
export function parseAgentMessage(data: Uint8Array): AgentMessage {
  if (data.length === 0) return malformed('message is empty, expected a kind byte first');

  const kind = data[0];
  if (kind === AUDIO_KIND) {
    if (data.length !== AUDIO_MESSAGE_BYTES) {
      return malformed(
        `audio message length is ${data.length} bytes, expected ${AUDIO_MESSAGE_BYTES}`,
      );
    }
    return { kind: 'audio', message: data };
  }
  if (kind !== CONTROL_KIND) {
    return malformed(`message kind byte is ${hex(kind)}, expected 0x01 (audio) or 0x02 (control)`);
  }

  let body: unknown;
  try {
    body = unpackr.unpack(data.subarray(1));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return malformed(`control message is not one msgpack value: ${truncate(reason, 80)}`);
  }
  if (!isPlainMap(body)) {
    return malformed(`control message is ${describeValue(body)}, expected a msgpack map`);
  }
  return parseControl(body);
}

function parseControl(body: Record<string, unknown>): AgentMessage {
  const type = body['type'];
  if (typeof type !== 'string') {
    return malformed(`control message field type is ${describeValue(type)}, expected a string`);
  }
  switch (type) {
    case 'usage':
      return parseUsage(body);
    case 'hangup':
      return parseHangup(body);
    case 'start':
    case 'ended':
      return unexpected(`control message type ${describeValue(type)} is sent only by the bridge`);
    default:
      return unexpected(
        `control message type ${describeValue(type)} is unknown, expected usage or hangup`,
      );
  }
}

function parseUsage(body: Record<string, unknown>): AgentMessage {
  for (const field of ['input_tokens', 'output_tokens'] as const) {
    const value = body[field];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      return invalidUsage(
        `usage field ${field} is ${describeValue(value)}, expected a non-negative safe integer`,
      );
    }
  }

  const model = body['model'] ?? UNNAMED_MODEL;
  if (typeof model !== 'string' || model.length > MAX_MODEL_LENGTH) {
    return invalidUsage(
      `usage field model is ${describeValue(model)}, expected a string of at most ` +
        `${MAX_MODEL_LENGTH} characters`,
    );
  }

  return {
    kind: 'usage',
    usage: {
      inputTokens: body['input_tokens'] as number,
      outputTokens: body['output_tokens'] as number,
      model,
    },
  };
}

function parseHangup(body: Record<string, unknown>): AgentMessage {
  const reason = body['reason'] ?? DEFAULT_HANGUP_REASON;
  if (typeof reason !== 'string' || reason.length === 0 || reason.length > MAX_REASON_LENGTH) {
    return malformed(
      `hangup field reason is ${describeValue(reason)}, expected a string of 1 to ` +
        `${MAX_REASON_LENGTH} characters`,
    );
  }
  return { kind: 'hangup', reason };
}

/** A map decoded by msgpackr: an object with no prototype but Object's or none. */
function isPlainMap(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === null || prototype === Object.prototype;
}

/** A short, single-line description of an untrusted value, for error messages. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    return value.length > 60
      ? `a string of ${value.length} characters starting ${JSON.stringify(value.slice(0, 40))}`
      : JSON.stringify(value);
  }
  if (typeof value === 'bigint') return `${value}n`;
  if (value === C1) return 'the reserved msgpack byte 0xc1';
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'object') return `a ${typeof value}`;
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return `binary data of ${value.length} bytes`;
  return isPlainMap(value) ? 'a map' : `a ${value.constructor?.name ?? 'value'}`;
}

function hex(byte: number | undefined): string {
  return `0x${(byte ?? 0).toString(16).padStart(2, '0')}`;
}

function truncate(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length)}...` : text;
}

function malformed(message: string): AgentMessage {
  return { kind: 'violation', code: 'malformed_message', message };
}

function unexpected(message: string): AgentMessage {
  return { kind: 'violation', code: 'unexpected_message', message };
}

function invalidUsage(message: string): AgentMessage {
  return { kind: 'violation', code: 'invalid_usage', message };
}
