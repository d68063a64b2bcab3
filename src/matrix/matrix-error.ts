/** Why a Matrix request failed, as a stable code. */
export type MatrixErrorCode =
  /** The homeserver answered with an error (see `status` and `errcode`). */
  | 'homeserver_error'
  /** The homeserver asked to slow down (429); `retryAfterMs` says for how long. */
  | 'rate_limited'
  /** No answer: connection refused or reset, TLS failure, timeout. */
  | 'network_error'
  /** The answer was not the JSON the API promises. */
  | 'bad_response'
  /** An event over the 65,536-byte limit, refused before sending. */
  | 'event_too_large'
  /** The request was given up (a retry budget ran out, or the client is closing). */
  | 'gave_up';

/** A failed Matrix request. Never carries the access token. */
export class MatrixError extends Error {
  constructor(
    readonly code: MatrixErrorCode,
    message: string,
    readonly details: {
      status?: number;
      errcode?: string;
      retryAfterMs?: number;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: details.cause });
    this.name = 'MatrixError';
  }

  /** True for failures worth retrying: rate limits, server errors, the network. */
  get retryable(): boolean {
    return (
      this.code === 'rate_limited' ||
      this.code === 'network_error' ||
      (this.code === 'homeserver_error' && (this.details.status ?? 0) >= 500)
    );
  }
}
