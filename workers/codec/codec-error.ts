/** Why a codec call was refused; stable strings that tests, logs and metrics share. */
export type CodecErrorCode =
  | 'invalid_option'
  | 'invalid_frame'
  | 'decode_failed'
  | 'unsupported_duration'
  | 'encode_failed'
  | 'closed';

/** A codec call that was refused or failed. The codec stays usable unless the code is `closed`. */
export class CodecError extends Error {
  constructor(
    readonly code: CodecErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CodecError';
  }
}
