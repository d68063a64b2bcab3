import { AudioCoreError } from './audio-error.js';
import { integerOption, powerOfTwoOption } from './audio-options.js';
import { WASM_PAGE_BYTES, type WasmMemory } from './audio-wasm.js';

/** Alignment of every region unless asked otherwise: a cache line. */
const DEFAULT_ALIGN = 64;

/** Highest byte offset a 32-bit memory can address. */
const MAX_OFFSET = 2 ** 32;

/** The span of memory an allocator hands out. */
export interface RegionAllocatorOptions {
  /** First byte it may hand out; at or above the core's `heapBase`. */
  start: number;
  /**
   * End of its span (exclusive). Omitted, the span runs to the end of the memory, and the
   * allocator grows the memory when it needs more.
   */
  end?: number;
}

/**
 * Carves regions for rings, jitter buffers and meters out of a span of the shared audio
 * memory.
 *
 * Who may allocate: an allocator belongs to one thread and is not safe to share. The thread
 * that creates the memory owns the allocator over all of it (`RegionAllocator.forCore`) and
 * is the only one that grows the memory. It hands regions to other threads by pointer, or
 * carves a span for another thread (say, a media worker) that then runs an allocator of its
 * own over exactly that span. Regions are never moved; a released region is kept for the
 * next request of the same size (ring and buffer sizes repeat from call to call), and is not
 * cleared: the structure's init sets it up again.
 */
export class RegionAllocator {
  /** The memory regions are carved from. */
  readonly #memory: WasmMemory;
  /** First byte of the span. */
  readonly #start: number;
  /** End of the span, or undefined to run to the end of the memory and grow it. */
  readonly #end: number | undefined;
  /** First byte never handed out. */
  #next: number;
  /** Size of every region handed out and not released, by pointer. */
  readonly #live = new Map<number, number>();
  /** Released regions by size, ready for reuse. */
  readonly #released = new Map<number, number[]>();

  constructor(memory: WasmMemory, options: RegionAllocatorOptions) {
    this.#memory = memory;
    this.#start = integerOption('start', options.start, 0, MAX_OFFSET);
    this.#end =
      options.end === undefined
        ? undefined
        : integerOption('end', options.end, this.#start, MAX_OFFSET);
    this.#next = this.#start;
  }

  /** An allocator over the whole memory of `core`, above its static data, that may grow it. */
  static forCore(core: { memory: WasmMemory; heapBase: number }): RegionAllocator {
    return new RegionAllocator(core.memory, { start: alignUp(core.heapBase, DEFAULT_ALIGN) });
  }

  /** Hands out `bytes` bytes aligned to `align` (a power of two) and returns the pointer. */
  alloc(bytes: number, align = DEFAULT_ALIGN): number {
    integerOption('bytes', bytes, 1, MAX_OFFSET);
    powerOfTwoOption('align', align, 1, WASM_PAGE_BYTES);

    const reusable = this.#released.get(bytes);
    if (reusable !== undefined) {
      const index = reusable.findIndex((ptr) => ptr % align === 0);
      if (index >= 0) {
        const [ptr] = reusable.splice(index, 1) as [number];
        if (reusable.length === 0) this.#released.delete(bytes);
        this.#live.set(ptr, bytes);
        return ptr;
      }
    }

    const ptr = alignUp(this.#next, align);
    const end = ptr + bytes;
    this.#ensure(end, bytes);
    this.#next = end;
    this.#live.set(ptr, bytes);
    return ptr;
  }

  /** Returns a region for reuse. Nothing may use it afterwards, in any thread. */
  release(ptr: number): void {
    const bytes = this.#live.get(ptr);
    if (bytes === undefined) {
      throw new AudioCoreError('unknown_region', `ptr ${ptr} is not a region of this allocator`);
    }
    this.#live.delete(ptr);
    const list = this.#released.get(bytes);
    if (list === undefined) this.#released.set(bytes, [ptr]);
    else list.push(ptr);
  }

  /** Bytes of the span handed out so far, released regions included. */
  get usedBytes(): number {
    return this.#next - this.#start;
  }

  /** Regions handed out and not released. */
  get liveRegions(): number {
    return this.#live.size;
  }

  /** Makes sure the memory reaches `end`, growing it if this allocator may. */
  #ensure(end: number, bytes: number): void {
    const limit = this.#end ?? MAX_OFFSET;
    if (end > limit) {
      throw new AudioCoreError(
        'out_of_memory',
        `no room for ${bytes} bytes: the span ends at ${limit}, ${limit - this.#next} left`,
      );
    }
    const have = this.#memory.buffer.byteLength;
    if (end <= have) return;
    if (this.#end !== undefined) {
      throw new AudioCoreError(
        'out_of_memory',
        `the span ends at ${this.#end} but the memory holds only ${have} bytes`,
      );
    }
    try {
      this.#memory.grow(Math.ceil((end - have) / WASM_PAGE_BYTES));
    } catch (error) {
      throw new AudioCoreError(
        'out_of_memory',
        `cannot grow the audio memory to ${end} bytes for ${bytes} more: ${String(error)}`,
        { cause: error },
      );
    }
  }
}

function alignUp(value: number, align: number): number {
  return Math.ceil(value / align) * align;
}
