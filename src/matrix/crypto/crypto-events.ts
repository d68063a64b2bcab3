import {
  DecryptedRoomEvent as LibraryDecryptedRoomEvent,
  DecryptedToDeviceEvent,
  DecryptionErrorCode,
  InvalidToDeviceEvent,
  MegolmDecryptionError,
  PlainTextToDeviceEvent,
  ToDeviceUnableToDecryptReason,
  UTDToDeviceEvent,
} from '@matrix-org/matrix-sdk-crypto-wasm';

import { CryptoError, describeValue, messageOf } from './crypto-error.js';

/** A Matrix event as JSON: at least a `type` and a `content` object. */
export interface MatrixEvent {
  type: string;
  content: Record<string, unknown>;
  [field: string]: unknown;
}

/** A room event after `decrypt`. */
export interface DecryptedRoomEvent {
  /**
   * The event in the clear: the original envelope (`event_id`, `sender`, `origin_server_ts`,
   * `room_id`, `unsigned`) with the decrypted `type` and `content`. An event that was not
   * encrypted comes back as it was.
   */
  event: MatrixEvent;
  /** True when the event arrived as `m.room.encrypted` and was decrypted. */
  encrypted: boolean;
  /** For decrypted events: the device that sent it, as claimed by the Olm session. */
  senderDevice?: string;
  /** For decrypted events: the Curve25519 key of the sending device. */
  senderCurve25519Key?: string;
}

/** A to-device event from sync, after the crypto layer processed it. */
export type ReceivedToDeviceEvent =
  /** An encrypted event, decrypted; room keys among them are already stored. */
  | { kind: 'decrypted'; event: MatrixEvent }
  /** An event sent in the clear. */
  | { kind: 'plaintext'; event: MatrixEvent }
  /** An encrypted event that could not be decrypted. */
  | { kind: 'undecryptable'; event: MatrixEvent; reason: string }
  /** An event missing required fields; ignored by the library. */
  | { kind: 'invalid'; event: unknown };

/** The library's processed to-device events. */
export type LibraryToDeviceEvent =
  | DecryptedToDeviceEvent
  | PlainTextToDeviceEvent
  | InvalidToDeviceEvent
  | UTDToDeviceEvent;

/** Checks an untrusted event's shape; throws `invalid_input` naming `field`. */
export function validateEvent(value: unknown, field: string): MatrixEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(field, value);
  }
  const event = value as Record<string, unknown>;
  if (typeof event.type !== 'string' || event.type === '') {
    throw invalid(`${field}.type`, event.type);
  }
  const content = event.content;
  if (typeof content !== 'object' || content === null || Array.isArray(content)) {
    throw invalid(`${field}.content`, content);
  }
  return event as MatrixEvent;
}

/** Copies a processed to-device event into plain data. */
export function toReceivedEvent(processed: LibraryToDeviceEvent): ReceivedToDeviceEvent {
  if (processed instanceof DecryptedToDeviceEvent) {
    return { kind: 'decrypted', event: parseEvent(processed.rawEvent) };
  }
  if (processed instanceof PlainTextToDeviceEvent) {
    return { kind: 'plaintext', event: parseEvent(processed.rawEvent) };
  }
  if (processed instanceof UTDToDeviceEvent) {
    const reason = ToDeviceUnableToDecryptReason[processed.utdInfo.reason];
    return { kind: 'undecryptable', event: parseEvent(processed.rawEvent), reason };
  }
  return { kind: 'invalid', event: parseJson(processed.rawEvent) };
}

/**
 * Turns a failed room decryption into CryptoError `undecryptable`, with the library's reason
 * (`MissingRoomKey`, `UnknownMessageIndex`, ...) so the caller can keep the event and retry
 * once more keys arrive.
 */
export function undecryptable(error: unknown, roomId: string): CryptoError {
  if (error instanceof MegolmDecryptionError) {
    const reason = DecryptionErrorCode[error.code] ?? `code ${String(error.code)}`;
    const withheld = error.withheldCode === undefined ? '' : ` (withheld: ${error.withheldCode})`;
    return new CryptoError(
      'undecryptable',
      `decrypt: event in ${roomId} cannot be decrypted: ${reason}${withheld}`,
      { cause: error, reason },
    );
  }
  return new CryptoError(
    'undecryptable',
    `decrypt: event in ${roomId} cannot be decrypted: ${messageOf(error)}`,
    { cause: error, reason: 'UnableToDecrypt' },
  );
}

/**
 * The clear event: the envelope as received (`event_id`, `sender`, `origin_server_ts`,
 * `unsigned`, ...) with the decrypted `type` and `content`. Frees the library's object.
 */
export function toDecryptedRoomEvent(
  envelope: MatrixEvent,
  decrypted: LibraryDecryptedRoomEvent,
): DecryptedRoomEvent {
  const clear = parseEvent(decrypted.event);
  const result: DecryptedRoomEvent = {
    event: { ...envelope, type: clear.type, content: clear.content },
    encrypted: true,
    senderCurve25519Key: decrypted.senderCurve25519Key,
  };
  const device = decrypted.senderDevice;
  if (device !== undefined) result.senderDevice = device.toString();
  decrypted.free();
  return result;
}

/** Parses JSON the library produced; these are always objects with a type and content. */
export function parseEvent(json: string): MatrixEvent {
  const value = parseJson(json);
  const event = (typeof value === 'object' && value !== null ? value : {}) as MatrixEvent;
  if (typeof event.content !== 'object' || event.content === null) event.content = {};
  return event;
}

function parseJson(json: string): unknown {
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return json;
  }
}

function invalid(field: string, value: unknown): CryptoError {
  return new CryptoError(
    'invalid_input',
    `crypto: ${field}: expected a Matrix event field, got ${describeValue(value)}`,
  );
}
