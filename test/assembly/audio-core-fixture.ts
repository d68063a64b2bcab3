import { readdirSync, statSync } from 'node:fs';

import {
  AudioCore,
  RegionAllocator,
  createAudioMemory,
  locateAudioCoreWasm,
} from '../../src/engine/audio-core.js';
import type { WasmMemory } from '../../src/engine/audio-wasm.js';

/** A core over a fresh shared memory, with the allocator that owns it. */
export interface CoreFixture {
  memory: WasmMemory;
  core: AudioCore;
  allocator: RegionAllocator;
}

/**
 * Loads the built core over a fresh memory. Fails loudly when build/audio-core.wasm is older
 * than the AssemblyScript sources, so tests never run against a stale build.
 */
export async function loadCore(initialPages = 32): Promise<CoreFixture> {
  assertFreshBuild();
  const memory = createAudioMemory({ initialPages });
  const core = await AudioCore.load(memory);
  return { memory, core, allocator: RegionAllocator.forCore(core) };
}

function assertFreshBuild(): void {
  const wasm = locateAudioCoreWasm();
  const sources = new URL('../../assembly/', import.meta.url);
  let built: number;
  try {
    built = statSync(wasm).mtimeMs;
  } catch {
    throw new Error('build/audio-core.wasm is missing: run `npm run build:wasm` first');
  }
  for (const name of readdirSync(sources)) {
    if (statSync(new URL(name, sources)).mtimeMs > built) {
      throw new Error(`assembly/${name} is newer than the wasm: run \`npm run build:wasm\``);
    }
  }
}

/** A small deterministic random number generator (xorshift32), for repeatable tests. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4_294_967_296;
  };
}
