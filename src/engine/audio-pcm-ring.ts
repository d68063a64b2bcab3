import type { AudioCore } from './audio-core.js';
import type { RegionAllocator } from './audio-allocator.js';
import { FRAME_SAMPLES } from './audio-constants.js';
import { AudioCoreError } from './audio-error.js';
import type { AudioCoreExports } from './audio-exports.js';
import { integerOption, powerOfTwoOption } from './audio-options.js';

/** Room the ring's header takes before the frames (mirrors the wasm layout). */
const HEADER_BYTES = 192;

/** Size of a PCM ring. */
export interface PcmRingOptions {
  /** Frames it holds: a power of two from 2 to 4096 (default 16, 320 ms). */
  frames?: number;
}

/** Counters of a PCM ring; any thread may read them. */
export interface PcmRingStats {
  /** Frames accepted. */
  pushed: number;
  /** Frames taken out. */
  popped: number;
  /** Frames refused because the ring was full. */
  dropped: number;
  /** Frames waiting. */
  length: number;
}

/**
 * A single-producer single-consumer ring of 960-sample 16-bit PCM frames (20 ms at 48 kHz)
 * in the shared audio memory. One thread pushes, one other thread pops; each makes its own
 * `PcmRing` over the same pointer (`create` on one thread, `attach` on the other).
 *
 * Frames can be copied in and out (`push`, `pop`) or worked on in place: `reserve` gives the
 * next free frame to fill and `commit` publishes it; `peek` gives the oldest frame and
 * `release` frees it.
 */
export class PcmRing {
  /** Where the ring lives in the shared memory; send this to the other thread. */
  readonly ptr: number;
  /** Frames it holds. */
  readonly frames: number;
  /** The wasm functions. */
  readonly #core: AudioCoreExports;
  /** A view of every frame slot, made once so no call allocates. */
  readonly #slots: Int16Array[];
  /** The memory's bytes when this side was made, to spot frames already in it. */
  readonly #buffer: ArrayBufferLike;
  /** Whether this side holds a reserved slot (producer) or a peeked one (consumer). */
  #holding = false;

  private constructor(core: AudioCore, ptr: number) {
    const x = core.exports;
    this.#core = x;
    this.ptr = ptr;
    this.frames = x.pcmRingFrames(ptr);
    const buffer = core.buffer;
    this.#buffer = buffer;
    this.#slots = Array.from(
      { length: this.frames },
      (_, slot) => new Int16Array(buffer, x.pcmRingSlotAddress(ptr, slot), FRAME_SAMPLES),
    );
  }

  /** Bytes a ring with these options takes. */
  static bytes(core: AudioCore, options: PcmRingOptions = {}): number {
    return core.exports.pcmRingBytes(checkFrames(options));
  }

  /** Carves a new, empty ring from `allocator`. */
  static create(
    core: AudioCore,
    allocator: RegionAllocator,
    options: PcmRingOptions = {},
  ): PcmRing {
    const frames = checkFrames(options);
    const ptr = allocator.alloc(core.exports.pcmRingBytes(frames));
    core.exports.pcmRingInit(ptr, frames, 0);
    return new PcmRing(core, ptr);
  }

  /** Opens the ring another thread created at `ptr`. */
  static attach(core: AudioCore, ptr: number): PcmRing {
    integerOption('ptr', ptr, core.heapBase, core.byteLength - HEADER_BYTES);
    return new PcmRing(core, ptr);
  }

  /** Copies a 960-sample frame in; false (counted as dropped) when full. Producer only. */
  push(frame: Int16Array): boolean {
    checkFrame('frame', frame, true);
    // A frame already in the shared memory is cheaper to copy inside wasm.
    if (frame.buffer === this.#buffer) {
      return this.#core.pcmRingPush(this.ptr, frame.byteOffset) !== 0;
    }
    const slot = this.#core.pcmRingWriteSlot(this.ptr);
    if (slot < 0) return false;
    (this.#slots[slot] as Int16Array).set(frame);
    this.#core.pcmRingCommit(this.ptr);
    return true;
  }

  /** Copies the oldest frame into `into` (960 samples or more); false when empty. Consumer only. */
  pop(into: Int16Array): boolean {
    checkFrame('into', into, false);
    if (into.buffer === this.#buffer) {
      return this.#core.pcmRingPop(this.ptr, into.byteOffset) !== 0;
    }
    const slot = this.#core.pcmRingReadSlot(this.ptr);
    if (slot < 0) return false;
    into.set(this.#slots[slot] as Int16Array);
    this.#core.pcmRingRelease(this.ptr);
    return true;
  }

  /**
   * The next free frame to fill in place, or null (counted as dropped) when the ring is full.
   * Producer only; publish it with `commit`.
   */
  reserve(): Int16Array | null {
    const slot = this.#core.pcmRingWriteSlot(this.ptr);
    if (slot < 0) return null;
    this.#holding = true;
    return this.#slots[slot] as Int16Array;
  }

  /** Publishes the frame from `reserve`. */
  commit(): void {
    this.#endHold('commit');
    this.#core.pcmRingCommit(this.ptr);
  }

  /** The oldest frame, read in place, or null when empty. Consumer only; free it with `release`. */
  peek(): Int16Array | null {
    const slot = this.#core.pcmRingReadSlot(this.ptr);
    if (slot < 0) return null;
    this.#holding = true;
    return this.#slots[slot] as Int16Array;
  }

  /** Frees the frame from `peek` for the producer. */
  release(): void {
    this.#endHold('release');
    this.#core.pcmRingRelease(this.ptr);
  }

  /** The ring's counters. */
  stats(): PcmRingStats {
    const x = this.#core;
    return {
      pushed: x.pcmRingPushed(this.ptr),
      popped: x.pcmRingPopped(this.ptr),
      dropped: x.pcmRingDropped(this.ptr),
      length: x.pcmRingLength(this.ptr),
    };
  }

  /** Ends a hold taken by reserve or peek; throws when there is none. */
  #endHold(action: string): void {
    if (!this.#holding) {
      throw new AudioCoreError('no_slot_taken', `${action} called with no frame taken first`);
    }
    this.#holding = false;
  }
}

function checkFrames(options: PcmRingOptions): number {
  return powerOfTwoOption('frames', options.frames ?? 16, 2, 4_096);
}

function checkFrame(field: string, frame: Int16Array, exact: boolean): void {
  if (frame.length === FRAME_SAMPLES || (!exact && frame.length > FRAME_SAMPLES)) return;
  throw new AudioCoreError(
    'invalid_frame',
    `${field} must hold ${exact ? '' : 'at least '}${FRAME_SAMPLES} samples, got ${frame.length}`,
  );
}
