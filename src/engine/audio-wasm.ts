// The project compiles against the ES2023 and Node type libraries, which do not declare the
// WebAssembly JS API, so the part of it the audio core uses is typed here. These are local
// types over the real global: nothing is declared globally.

/** A compiled module; it can be sent to another thread with postMessage. */
export interface WasmModule {
  readonly [Symbol.toStringTag]: string;
}

/** A linear memory; a shared one can be sent to another thread with postMessage. */
export interface WasmMemory {
  /** The current bytes; a new object after the memory grows. */
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  /** Grows by `pages` 64 KiB pages and returns the old size in pages; throws past the maximum. */
  grow(pages: number): number;
}

/** A value an instance exports as a global. */
export interface WasmGlobal {
  readonly value: number;
}

interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Instance: new (
    module: WasmModule,
    imports: Record<string, Record<string, unknown>>,
  ) => WasmInstance;
  compile(bytes: Uint8Array): Promise<WasmModule>;
}

/** The global WebAssembly object, typed. */
export const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Bytes in one WebAssembly memory page. */
export const WASM_PAGE_BYTES = 65_536;
