import {
  KeysBackupRequest,
  KeysClaimRequest,
  KeysQueryRequest,
  KeysUploadRequest,
  RequestType,
  RoomMessageRequest,
  SignatureUploadRequest,
  ToDeviceRequest,
} from '@matrix-org/matrix-sdk-crypto-wasm';

import { CryptoError, describeValue } from './crypto-error.js';

const CLIENT = '/_matrix/client/v3';

/** Fields every request carries: what to send, and the id to report back when it was sent. */
interface RequestBase {
  /** The id `markRequestAsSent` takes. */
  id: string;
  /** The HTTP method. */
  method: 'POST' | 'PUT';
  /** The client-server API path, with any ids already escaped. */
  path: string;
  /** The JSON request body, exactly as the crypto library produced it. */
  body: string;
}

/** Publishes this device's keys and one-time keys. */
export interface KeysUploadCryptoRequest extends RequestBase {
  kind: 'keys_upload';
}

/** Fetches other devices' keys. */
export interface KeysQueryCryptoRequest extends RequestBase {
  kind: 'keys_query';
}

/** Claims one-time keys to start Olm sessions. */
export interface KeysClaimCryptoRequest extends RequestBase {
  kind: 'keys_claim';
}

/** Sends to-device messages (room keys, mostly). */
export interface ToDeviceCryptoRequest extends RequestBase {
  kind: 'to_device';
  eventType: string;
  txnId: string;
}

/** Uploads cross-signing signatures. */
export interface SignatureUploadCryptoRequest extends RequestBase {
  kind: 'signature_upload';
}

/** Sends a room event the library made itself (in-room verification). */
export interface RoomMessageCryptoRequest extends RequestBase {
  kind: 'room_message';
  roomId: string;
  eventType: string;
  txnId: string;
}

/** Backs room keys up to the server. */
export interface KeysBackupCryptoRequest extends RequestBase {
  kind: 'keys_backup';
  version: string;
}

/** A request the crypto layer needs sent to the homeserver. */
export type OutgoingCryptoRequest =
  | KeysUploadCryptoRequest
  | KeysQueryCryptoRequest
  | KeysClaimCryptoRequest
  | ToDeviceCryptoRequest
  | SignatureUploadCryptoRequest
  | RoomMessageCryptoRequest
  | KeysBackupCryptoRequest;

/** The kinds of request, as `markRequestAsSent` takes them. */
export type CryptoRequestKind = OutgoingCryptoRequest['kind'];

/**
 * Sends one request to the homeserver and resolves with the response body (JSON text).
 * Rejects when the request failed; it will be offered again.
 */
export type CryptoRequestSender = (request: OutgoingCryptoRequest) => Promise<string>;

const REQUEST_TYPES: Record<CryptoRequestKind, RequestType> = {
  keys_upload: RequestType.KeysUpload,
  keys_query: RequestType.KeysQuery,
  keys_claim: RequestType.KeysClaim,
  to_device: RequestType.ToDevice,
  signature_upload: RequestType.SignatureUpload,
  room_message: RequestType.RoomMessage,
  keys_backup: RequestType.KeysBackup,
};

/** The library's request type for a kind; throws `invalid_input` naming the bad value. */
export function requestTypeOf(kind: unknown): RequestType {
  if (typeof kind === 'string' && Object.hasOwn(REQUEST_TYPES, kind)) {
    return REQUEST_TYPES[kind as CryptoRequestKind];
  }
  throw new CryptoError(
    'invalid_input',
    `markRequestAsSent: type: expected one of ${Object.keys(REQUEST_TYPES).join(', ')}, ` +
      `got ${describeValue(kind)}`,
  );
}

/** The library's request objects, as `outgoingRequests` and friends return them. */
export type LibraryRequest =
  | KeysUploadRequest
  | KeysQueryRequest
  | KeysClaimRequest
  | ToDeviceRequest
  | SignatureUploadRequest
  | RoomMessageRequest
  | KeysBackupRequest;

/** Copies a library request into plain data, with the HTTP method and path to send it on. */
export function toCryptoRequest(request: LibraryRequest): OutgoingCryptoRequest {
  if (request instanceof KeysUploadRequest) {
    return plain('keys_upload', request.id, 'POST', `${CLIENT}/keys/upload`, request.body);
  }
  if (request instanceof KeysQueryRequest) {
    return plain('keys_query', request.id, 'POST', `${CLIENT}/keys/query`, request.body);
  }
  if (request instanceof KeysClaimRequest) {
    return plain('keys_claim', request.id, 'POST', `${CLIENT}/keys/claim`, request.body);
  }
  if (request instanceof ToDeviceRequest) {
    const type = encodeURIComponent(request.event_type);
    const txn = encodeURIComponent(request.txn_id);
    return {
      kind: 'to_device',
      id: request.id,
      method: 'PUT',
      path: `${CLIENT}/sendToDevice/${type}/${txn}`,
      body: request.body,
      eventType: request.event_type,
      txnId: request.txn_id,
    };
  }
  if (request instanceof SignatureUploadRequest) {
    const path = `${CLIENT}/keys/signatures/upload`;
    return plain('signature_upload', request.id ?? '', 'POST', path, request.body);
  }
  if (request instanceof RoomMessageRequest) {
    const room = encodeURIComponent(request.room_id);
    const type = encodeURIComponent(request.event_type);
    const txn = encodeURIComponent(request.txn_id);
    return {
      kind: 'room_message',
      id: request.id,
      method: 'PUT',
      path: `${CLIENT}/rooms/${room}/send/${type}/${txn}`,
      body: request.body,
      roomId: request.room_id,
      eventType: request.event_type,
      txnId: request.txn_id,
    };
  }
  const version = encodeURIComponent(request.version);
  return {
    kind: 'keys_backup',
    id: request.id,
    method: 'PUT',
    path: `${CLIENT}/room_keys/keys?version=${version}`,
    body: request.body,
    version: request.version,
  };
}

function plain<K extends 'keys_upload' | 'keys_query' | 'keys_claim' | 'signature_upload'>(
  kind: K,
  id: string,
  method: 'POST',
  path: string,
  body: string,
): RequestBase & { kind: K } {
  return { kind, id, method, path, body };
}
