import type { CallReport } from './call-report.js';

/** The caller process's setup: who to be and whom to call. */
export interface SetupMessage {
  type: 'setup';
  homeserverUrl: string;
  /** The homeserver's CA (PEM), for a development homeserver's own certificate. */
  caPem: string | undefined;
  /** The bridge's bot user, whom every caller opens an encrypted DM with. */
  botUserId: string;
  /** How many caller accounts this process registers. */
  callers: number;
  /** Prefix of their user names; each gets a random suffix. */
  namePrefix: string;
}

/** Place one call from one of this process's callers. */
export interface PlaceMessage {
  type: 'place';
  callId: string;
  /** The caller's user id, one of those this process reported in `ready`. */
  userId: string;
  holdMs: number;
  answerTimeoutMs: number;
  mediaTimeoutMs: number;
}

/** Hang one call up early (its report says `stopped`). */
export interface HangupMessage {
  type: 'hangup';
  callId: string;
}

/** Hang every call up, close every account and exit. */
export interface StopMessage {
  type: 'stop';
}

/** What the fleet sends a caller process. */
export type ToCallerMessage = SetupMessage | PlaceMessage | HangupMessage | StopMessage;

/** One caller account of the process, with its encrypted DM with the bot. */
export interface CallerInfo {
  userId: string;
  roomId: string;
}

/** What a caller process sends back. */
export type FromCallerMessage =
  /** Setup is done: these callers are ready to call. */
  | { type: 'ready'; callers: CallerInfo[] }
  /** Setup failed, or the process cannot go on; it exits after this. */
  | { type: 'fatal'; error: string }
  /** A call reached a stage (answered: the answer is in; media: audio came back). */
  | { type: 'progress'; callId: string; stage: 'answered' | 'media' }
  /** A call ended (or could not be placed); its report. */
  | { type: 'ended'; report: CallReport }
  /** Every call is over and every account closed; the process exits next. */
  | { type: 'stopped' };

/** Throws a TypeError naming the field unless `message` is a well-formed message to a caller. */
export function parseToCallerMessage(message: unknown): ToCallerMessage {
  if (typeof message !== 'object' || message === null) {
    throw new TypeError(`caller message must be an object, got ${String(message)}`);
  }
  const m = message as Record<string, unknown>;
  const text = (field: string): string => {
    const value = m[field];
    if (typeof value !== 'string' || value === '') {
      throw new TypeError(`${String(m.type)}.${field} must be a string, got ${String(value)}`);
    }
    return value;
  };
  const count = (field: string, min: number): number => {
    const value = m[field];
    if (!Number.isInteger(value) || (value as number) < min) {
      throw new TypeError(
        `${String(m.type)}.${field} must be an integer of at least ${min}, got ${String(value)}`,
      );
    }
    return value as number;
  };
  switch (m.type) {
    case 'setup':
      return {
        type: 'setup',
        homeserverUrl: text('homeserverUrl'),
        caPem: m.caPem === undefined ? undefined : text('caPem'),
        botUserId: text('botUserId'),
        callers: count('callers', 1),
        namePrefix: text('namePrefix'),
      };
    case 'place':
      return {
        type: 'place',
        callId: text('callId'),
        userId: text('userId'),
        holdMs: count('holdMs', 0),
        answerTimeoutMs: count('answerTimeoutMs', 1),
        mediaTimeoutMs: count('mediaTimeoutMs', 1),
      };
    case 'hangup':
      return { type: 'hangup', callId: text('callId') };
    case 'stop':
      return { type: 'stop' };
    default:
      throw new TypeError(
        `caller message type must be setup, place, hangup or stop, got ${String(m.type)}`,
      );
  }
}
