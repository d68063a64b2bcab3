/** The `errcode` values this server answers with (client-server API, "Standard error response"). */
export type MatrixErrorCode =
  | 'M_BAD_JSON'
  | 'M_FORBIDDEN'
  | 'M_GUEST_ACCESS_FORBIDDEN'
  | 'M_INVALID_PARAM'
  | 'M_INVALID_USERNAME'
  | 'M_LIMIT_EXCEEDED'
  | 'M_MISSING_PARAM'
  | 'M_MISSING_TOKEN'
  | 'M_NOT_FOUND'
  | 'M_NOT_JSON'
  | 'M_ROOM_IN_USE'
  | 'M_TOO_LARGE'
  | 'M_UNKNOWN'
  | 'M_UNKNOWN_TOKEN'
  | 'M_UNRECOGNIZED'
  | 'M_UNSUPPORTED_ROOM_VERSION'
  | 'M_USER_IN_USE';

/**
 * A refusal in the shape of the Matrix standard error response. Handlers throw it; the HTTP
 * layer turns it into `status` and a body of `{ errcode, error, ...extra }`.
 */
export class MatrixError extends Error {
  constructor(
    /** The HTTP status to answer with. */
    readonly status: number,
    readonly errcode: MatrixErrorCode,
    message: string,
    /** More fields of the error body, such as `retry_after_ms`. */
    readonly extra: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'MatrixError';
  }

  /** The JSON body of the error response. */
  body(): Record<string, unknown> {
    return { errcode: this.errcode, error: this.message, ...this.extra };
  }
}

/** 400 M_BAD_JSON: the body is JSON but not of the expected shape. */
export function badJson(message: string): MatrixError {
  return new MatrixError(400, 'M_BAD_JSON', message);
}

/** 400 M_INVALID_PARAM: a parameter is well-formed but not acceptable. */
export function invalidParam(message: string): MatrixError {
  return new MatrixError(400, 'M_INVALID_PARAM', message);
}

/** 403 M_FORBIDDEN. */
export function forbidden(message: string): MatrixError {
  return new MatrixError(403, 'M_FORBIDDEN', message);
}

/** 404 M_NOT_FOUND. */
export function notFound(message: string): MatrixError {
  return new MatrixError(404, 'M_NOT_FOUND', message);
}

/** 429 M_LIMIT_EXCEEDED, with the wait the client should observe before retrying. */
export function limitExceeded(retryAfterMs: number): MatrixError {
  return new MatrixError(429, 'M_LIMIT_EXCEEDED', 'Too many requests', {
    retry_after_ms: retryAfterMs,
  });
}
