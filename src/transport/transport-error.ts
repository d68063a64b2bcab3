/** Stable codes for everything that can go wrong in the WebRTC transport. */
export type TransportErrorCode =
  /** The remote offer is not an SDP this bridge can answer. */
  | 'invalid_sdp'
  /** A CallPeer option is missing or out of range. */
  | 'invalid_option'
  /** A remote ICE candidate is malformed. */
  | 'invalid_candidate'
  /** A method was called at the wrong point of the peer's life. */
  | 'invalid_state'
  /** The peer was closed before the operation could finish. */
  | 'closed'
  /** The library refused the offer or could not build an answer. */
  | 'negotiation_failed'
  /** A callback given to the peer threw. */
  | 'callback_failed'
  /** The native library threw or reported an error. */
  | 'native_error'
  /** The native library was about to be loaded off the main thread. */
  | 'wrong_thread';

/** An error of the WebRTC transport, with a `code` that tests, logs and metrics share. */
export class TransportError extends Error {
  /** What went wrong, as a stable code. */
  readonly code: TransportErrorCode;

  constructor(code: TransportErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransportError';
    this.code = code;
  }
}

/** A short, single-line description of an untrusted value for error messages. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 60)}...` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'function') return 'a function';
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

/** The message of anything thrown, for wrapping it in a TransportError. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
