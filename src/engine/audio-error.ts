/** Stable codes for what can go wrong in the audio core. */
export type AudioCoreErrorCode =
  /** The compiled audio core (build/audio-core.wasm) is missing. */
  | 'wasm_not_found'
  /** The memory is not shared, or does not fit the module's declared limits. */
  | 'memory_incompatible'
  /** An option is out of range; the message names it and its value. */
  | 'invalid_option'
  /** The memory has no room left for a region. */
  | 'out_of_memory'
  /** A pointer that names no region this allocator handed out. */
  | 'unknown_region'
  /** A PCM frame of the wrong length. */
  | 'invalid_frame'
  /** A destination too short for what it was asked to receive. */
  | 'buffer_too_small'
  /** A commit or release with no slot taken first. */
  | 'no_slot_taken';

/** An error from the audio core: a programming or setup error, never a network condition. */
export class AudioCoreError extends Error {
  constructor(
    readonly code: AudioCoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AudioCoreError';
  }
}
