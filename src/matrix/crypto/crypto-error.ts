/** Stable codes for everything the end-to-end encryption layer can refuse or fail at. */
export type CryptoErrorCode =
  /** An argument is missing or malformed; the message names the field and the value. */
  | 'invalid_input'
  /** A room event could not be decrypted (yet); `reason` says why. Retry when keys arrive. */
  | 'undecryptable'
  /** `encrypt` was called for a room whose members were never given to `ensureRoomKeys`. */
  | 'room_not_prepared'
  /** Sending a request through the caller's sender failed. */
  | 'request_failed'
  /** The crypto library refused or failed an operation. */
  | 'library_error'
  /** The saved store cannot be read or decoded. */
  | 'store_unreadable'
  /** The saved store did not open with the key given: wrong key, or another account's store. */
  | 'store_key_mismatch'
  /** Writing the store to disk failed; nothing may leave the process until a save succeeds. */
  | 'store_write_failed'
  /** The store folder is already open in this process. */
  | 'store_in_use'
  /** The key file is missing, malformed or readable by others. */
  | 'key_file_invalid'
  /** Something else already provides IndexedDB in this process. */
  | 'indexeddb_conflict'
  /** The crypto layer was closed. */
  | 'closed';

/** An end-to-end encryption failure. `code` is what logs, metrics and tests match on. */
export class CryptoError extends Error {
  /** What went wrong, as a stable code. */
  readonly code: CryptoErrorCode;
  /** For `undecryptable`: the library's reason (`MissingRoomKey`, `UnknownMessageIndex`, ...). */
  readonly reason: string | undefined;

  constructor(
    code: CryptoErrorCode,
    message: string,
    options?: { cause?: unknown; reason?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CryptoError';
    this.code = code;
    this.reason = options?.reason;
  }
}

/** A short, single-line description of an untrusted value for error messages. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value);
  }
  if (typeof value === 'function') return 'a function';
  if (value instanceof Uint8Array) return `${value.constructor.name}(${value.length})`;
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

/** The message of anything thrown, for wrapping it in a CryptoError. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  if (typeof error === 'object' && error !== null && 'description' in error) {
    return String(error.description);
  }
  return String(error);
}
