import type { AudioCore } from './audio-core.js';
import type { RegionAllocator } from './audio-allocator.js';
import { FRAME_SAMPLES } from './audio-constants.js';
import { AudioCoreError } from './audio-error.js';
import type { AudioCoreExports } from './audio-exports.js';
import { integerOption, numberOption } from './audio-options.js';

/** How a level meter decides that voice is active. */
export interface LevelMeterOptions {
  /** Level at or above which a frame is speech, in dBFS (default -45). */
  thresholdDbfs?: number;
  /** Frames voice stays active after the last speech frame (default 15, 300 ms). */
  hangoverFrames?: number;
  /** Longest frame measured, in samples (default 960). */
  maxSamples?: number;
}

/** Counters of a level meter. */
export interface LevelMeterStats {
  /** Frames measured. */
  frames: number;
  /** Frames at or above the threshold. */
  speechFrames: number;
  /** Frames during which voice was active, hangover included. */
  activeFrames: number;
}

/**
 * Measures the RMS level of PCM frames in dBFS (a full-scale sine reads about -3) and
 * decides voice activity with a threshold and a hangover. A meter belongs to one thread.
 */
export class LevelMeter {
  /** Where the meter lives in the shared memory. */
  readonly ptr: number;
  /** Longest frame measured, in samples. */
  readonly maxSamples: number;
  /** The wasm functions. */
  readonly #core: AudioCoreExports;
  /** The memory's bytes when it was made, to spot frames already in it. */
  readonly #buffer: ArrayBufferLike;
  /** Where a frame from elsewhere is copied to be measured. */
  readonly #staging: Int16Array;

  private constructor(core: AudioCore, ptr: number, maxSamples: number) {
    this.#core = core.exports;
    this.ptr = ptr;
    this.maxSamples = maxSamples;
    this.#buffer = core.buffer;
    this.#staging = new Int16Array(this.#buffer, core.exports.meterStaging(ptr), maxSamples);
  }

  /** Carves a new meter from `allocator`. */
  static create(
    core: AudioCore,
    allocator: RegionAllocator,
    options: LevelMeterOptions = {},
  ): LevelMeter {
    const threshold = numberOption('thresholdDbfs', options.thresholdDbfs ?? -45, -127, 0);
    const hangover = integerOption('hangoverFrames', options.hangoverFrames ?? 15, 0, 2 ** 31);
    const maxSamples = integerOption('maxSamples', options.maxSamples ?? FRAME_SAMPLES, 1, 2 ** 20);
    const ptr = allocator.alloc(core.exports.meterBytes(maxSamples));
    core.exports.meterInit(ptr, maxSamples, threshold, hangover);
    return new LevelMeter(core, ptr, maxSamples);
  }

  /** Measures one frame and returns whether voice is active after it. */
  update(frame: Int16Array): boolean {
    return this.#core.meterUpdate(this.ptr, this.#place(frame), frame.length) !== 0;
  }

  /** The RMS level of `frame` in dBFS, without touching the meter's state. */
  measure(frame: Int16Array): number {
    return this.#core.levelDbfs(this.#place(frame), frame.length);
  }

  /** Level of the last frame given to `update`, in dBFS. */
  get level(): number {
    return this.#core.meterLevel(this.ptr);
  }

  /** Whether voice was active after the last frame. */
  get active(): boolean {
    return this.#core.meterActive(this.ptr) !== 0;
  }

  /** The meter's counters. */
  stats(): LevelMeterStats {
    const x = this.#core;
    return {
      frames: x.meterFrames(this.ptr),
      speechFrames: x.meterSpeechFrames(this.ptr),
      activeFrames: x.meterActiveFrames(this.ptr),
    };
  }

  /** The frame's address in the memory, staging it first if it lives elsewhere. */
  #place(frame: Int16Array): number {
    if (frame.buffer === this.#buffer) return frame.byteOffset;
    if (frame.length > this.maxSamples) {
      throw new AudioCoreError(
        'invalid_frame',
        `frame must hold at most maxSamples (${this.maxSamples}) samples, got ${frame.length}`,
      );
    }
    this.#staging.set(frame);
    return this.#staging.byteOffset;
  }
}
