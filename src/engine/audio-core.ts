// Loads the AssemblyScript audio core against a shared memory. Any thread may use this
// module: it never touches WebRTC. The thread that creates the memory sends it (and, to skip
// a second compile, the compiled module) to the others with postMessage; each thread then
// makes its own instance over the same memory, and the structures in that memory (rings,
// jitter buffers, meters) are addressed by pointer.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { AudioCoreError } from './audio-error.js';
import { REQUIRED_FUNCTIONS, type AudioCoreExports } from './audio-exports.js';
import { integerOption } from './audio-options.js';
import { WASM_PAGE_BYTES, Wasm, type WasmMemory, type WasmModule } from './audio-wasm.js';

export { AudioCoreError, type AudioCoreErrorCode } from './audio-error.js';
export type { AudioCoreExports } from './audio-exports.js';
export * from './audio-constants.js';
export { RegionAllocator, type RegionAllocatorOptions } from './audio-allocator.js';
export { PacketRing, type PacketRingOptions, type PacketRingStats } from './audio-packet-ring.js';
export { PcmRing, type PcmRingOptions, type PcmRingStats } from './audio-pcm-ring.js';
export {
  JitterBuffer,
  type JitterBufferOptions,
  type JitterBufferStats,
} from './audio-jitter-buffer.js';
export { LevelMeter, type LevelMeterOptions, type LevelMeterStats } from './audio-level-meter.js';
export type { WasmMemory, WasmModule } from './audio-wasm.js';

/** The most pages the module accepts (its `maximumMemory` in asconfig.json): 1 GiB. */
export const AUDIO_CORE_MAX_PAGES = 16_384;

/** Path of the compiled core inside the package. */
const WASM_IN_PACKAGE = join('build', 'audio-core.wasm');

/** Sizes of a new audio memory, in 64 KiB pages. */
export interface AudioMemoryOptions {
  /** Pages to start with (default 16, 1 MiB). */
  initialPages?: number;
  /** Pages it may grow to (default and most AUDIO_CORE_MAX_PAGES). */
  maximumPages?: number;
}

/** Creates a shared memory the audio core can run on. */
export function createAudioMemory(options: AudioMemoryOptions = {}): WasmMemory {
  const maximum = integerOption(
    'maximumPages',
    options.maximumPages ?? AUDIO_CORE_MAX_PAGES,
    1,
    AUDIO_CORE_MAX_PAGES,
  );
  const initial = integerOption('initialPages', options.initialPages ?? 16, 1, maximum);
  return new Wasm.Memory({ initial, maximum, shared: true });
}

/**
 * Finds build/audio-core.wasm from this module's own location: the nearest folder above it
 * that holds package.json is the package root. That works both from src/engine (tests) and
 * from dist/src/engine (the built package), which sit at different depths below the root.
 */
export function locateAudioCoreWasm(from: string | URL = import.meta.url): URL {
  let dir = dirname(fileURLToPath(from));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return pathToFileURL(join(dir, WASM_IN_PACKAGE));
    const parent = dirname(dir);
    if (parent === dir) {
      throw new AudioCoreError('wasm_not_found', `no package.json above ${fileURLToPath(from)}`);
    }
    dir = parent;
  }
}

/** Compiled modules by file URL, so a thread compiles each file once. */
const compiled = new Map<string, Promise<WasmModule>>();

/** Compiles the audio core (once per file per thread). `wasm` defaults to the package's. */
export function compileAudioCore(wasm: URL = locateAudioCoreWasm()): Promise<WasmModule> {
  let module = compiled.get(wasm.href);
  if (module === undefined) {
    module = readWasm(wasm).then((bytes) => Wasm.compile(bytes));
    compiled.set(wasm.href, module);
    module.catch(() => compiled.delete(wasm.href));
  }
  return module;
}

async function readWasm(wasm: URL): Promise<Uint8Array> {
  try {
    return await readFile(wasm);
  } catch (error) {
    throw new AudioCoreError(
      'wasm_not_found',
      `cannot read ${fileURLToPath(wasm)}: run \`npm run build:wasm\` first`,
      { cause: error },
    );
  }
}

/** How `AudioCore.load` gets its module. */
export interface AudioCoreLoadOptions {
  /** A module already compiled (for example, received from the thread that made the memory). */
  module?: WasmModule;
  /** The wasm file to compile when no module is given; defaults to the package's. */
  wasm?: URL;
}

/** One thread's instance of the audio core over a shared memory. */
export class AudioCore {
  /** The shared memory every instance works on. */
  readonly memory: WasmMemory;
  /** The module this instance was made from, to send to other threads. */
  readonly module: WasmModule;
  /** The module's exports. */
  readonly exports: AudioCoreExports;
  /** First byte after the module's static data: structures go at or above it. */
  readonly heapBase: number;

  private constructor(memory: WasmMemory, module: WasmModule, exports: AudioCoreExports) {
    this.memory = memory;
    this.module = module;
    this.exports = exports;
    this.heapBase = exports.heapBase();
  }

  /** Compiles (or reuses) the module and instantiates it over `memory`. */
  static async load(memory: WasmMemory, options: AudioCoreLoadOptions = {}): Promise<AudioCore> {
    const module = options.module ?? (await compileAudioCore(options.wasm));
    return AudioCore.instantiate(memory, module);
  }

  /** Instantiates a compiled module over `memory`, synchronously. */
  static instantiate(memory: WasmMemory, module: WasmModule): AudioCore {
    if (!(memory.buffer instanceof SharedArrayBuffer)) {
      throw new AudioCoreError('memory_incompatible', 'the audio memory must be shared');
    }

    let exports: Record<string, unknown>;
    try {
      exports = new Wasm.Instance(module, { env: { memory } }).exports;
    } catch (error) {
      throw new AudioCoreError(
        'memory_incompatible',
        `cannot instantiate the audio core over this memory (its maximum must be at most ` +
          `${AUDIO_CORE_MAX_PAGES} pages): ${String(error)}`,
        { cause: error },
      );
    }
    for (const name of REQUIRED_FUNCTIONS) {
      if (typeof exports[name] !== 'function') {
        throw new AudioCoreError('wasm_not_found', `the wasm module does not export ${name}`);
      }
    }
    return new AudioCore(memory, module, exports as unknown as AudioCoreExports);
  }

  /** The memory's current bytes (a new object after it grows). */
  get buffer(): SharedArrayBuffer {
    return this.memory.buffer as SharedArrayBuffer;
  }

  /** Size of the memory in bytes. */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** Pages the memory holds. */
  get pages(): number {
    return this.memory.buffer.byteLength / WASM_PAGE_BYTES;
  }
}
