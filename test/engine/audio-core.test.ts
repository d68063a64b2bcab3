import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import {
  AUDIO_CORE_MAX_PAGES,
  AudioCore,
  AudioCoreError,
  FRAME_SAMPLES,
  JITTER_EMPTY,
  JITTER_GAP,
  JitterInsert,
  PacketRing,
  RING_EMPTY,
  RegionAllocator,
  SILENCE_DBFS,
  compileAudioCore,
  createAudioMemory,
  locateAudioCoreWasm,
} from '../../src/engine/audio-core.js';
import { Wasm, type WasmMemory } from '../../src/engine/audio-wasm.js';
import { loadCore } from '../assembly/audio-core-fixture.js';

const scratch = mkdtempSync(join(tmpdir(), 'voicebridge-audio-core-'));

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

async function codeOf(action: () => unknown): Promise<string | undefined> {
  try {
    await action();
  } catch (error) {
    return error instanceof AudioCoreError ? error.code : `not an AudioCoreError: ${String(error)}`;
  }
  return undefined;
}

describe('AudioCore', () => {
  it('loads over a shared memory and exports the constants the TypeScript side mirrors', async () => {
    const { core } = await loadCore();
    const x = core.exports;
    expect({
      frameSamples: x.FRAME_SAMPLES.value,
      ringEmpty: x.RING_EMPTY.value,
      gap: x.JITTER_GAP.value,
      empty: x.JITTER_EMPTY.value,
      silence: x.SILENCE_DBFS.value,
      inserts: [
        x.INSERT_STORED.value,
        x.INSERT_DUPLICATE.value,
        x.INSERT_LATE.value,
        x.INSERT_INVALID.value,
        x.INSERT_JUMP.value,
      ],
    }).toEqual({
      frameSamples: FRAME_SAMPLES,
      ringEmpty: RING_EMPTY,
      gap: JITTER_GAP,
      empty: JITTER_EMPTY,
      silence: SILENCE_DBFS,
      inserts: [
        JitterInsert.stored,
        JitterInsert.duplicate,
        JitterInsert.late,
        JitterInsert.invalid,
        JitterInsert.jump,
      ],
    });
    expect(core.heapBase).toBeGreaterThan(0);
    expect(core.heapBase).toBeLessThan(core.byteLength);
  });

  it('lets two instances over one memory work on the same ring', async () => {
    const { memory, core, allocator } = await loadCore();
    const other = AudioCore.instantiate(memory, core.module);
    const producer = PacketRing.create(core, allocator);
    const consumer = PacketRing.attach(other, producer.ptr);

    producer.push(Uint8Array.of(1, 2, 3));
    const into = new Uint8Array(8);
    expect(consumer.pop(into)).toBe(3);
    expect(into.subarray(0, 3)).toEqual(Uint8Array.of(1, 2, 3));
  });

  it('writes nothing into the shared memory when another thread instantiates it', async () => {
    const { memory, core, allocator } = await loadCore();
    const ring = PacketRing.create(core, allocator);
    ring.push(Uint8Array.of(9, 9, 9));
    const before = new Uint8Array(memory.buffer).slice();

    AudioCore.instantiate(memory, core.module);
    expect(Buffer.compare(new Uint8Array(memory.buffer), before)).toBe(0);
  });

  it('refuses a memory that is not shared', async () => {
    const module = await compileAudioCore();
    const plain = new Wasm.Memory({ initial: 1, maximum: 10, shared: false });
    expect(await codeOf(() => AudioCore.instantiate(plain, module))).toBe('memory_incompatible');
  });

  it('refuses a shared memory that may grow past what the module declares', async () => {
    const module = await compileAudioCore();
    const big: WasmMemory = new Wasm.Memory({
      initial: 1,
      maximum: AUDIO_CORE_MAX_PAGES + 1,
      shared: true,
    });
    expect(await codeOf(() => AudioCore.instantiate(big, module))).toBe('memory_incompatible');
    expect(await codeOf(() => createAudioMemory({ maximumPages: AUDIO_CORE_MAX_PAGES + 1 }))).toBe(
      'invalid_option',
    );
  });

  it('agrees with asconfig.json on the largest memory the module accepts', () => {
    const config = JSON.parse(
      readFileSync(new URL('../../asconfig.json', import.meta.url), 'utf8'),
    ) as { options: { maximumMemory: number } };
    expect(config.options.maximumMemory).toBe(AUDIO_CORE_MAX_PAGES);
  });

  it('accepts the largest memory the module declares', async () => {
    const memory = createAudioMemory({ initialPages: 1, maximumPages: AUDIO_CORE_MAX_PAGES });
    const core = await AudioCore.load(memory);
    expect(core.pages).toBe(1);
  });

  it('says how to build the wasm when the file is missing', async () => {
    const missing = pathToFileURL(join(scratch, 'nowhere', 'audio-core.wasm'));
    const error = await compileAudioCore(missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AudioCoreError);
    expect((error as AudioCoreError).code).toBe('wasm_not_found');
    expect((error as AudioCoreError).message).toContain('npm run build:wasm');
  });

  it('finds the wasm at the package root from the source tree and from the built tree', () => {
    const root = join(scratch, 'package');
    for (const dir of ['src/engine', 'dist/src/engine'])
      mkdirSync(join(root, dir), { recursive: true });
    writeFileSync(join(root, 'package.json'), '{}');

    const expected = join(root, 'build', 'audio-core.wasm');
    const fromSource = pathToFileURL(join(root, 'src', 'engine', 'audio-core.js'));
    const fromDist = pathToFileURL(join(root, 'dist', 'src', 'engine', 'audio-core.js'));
    expect(fileURLToPath(locateAudioCoreWasm(fromSource))).toBe(expected);
    expect(fileURLToPath(locateAudioCoreWasm(fromDist))).toBe(expected);
  });

  it('finds this package\u2019s own build by default', () => {
    expect(fileURLToPath(locateAudioCoreWasm())).toBe(
      fileURLToPath(new URL('../../build/audio-core.wasm', import.meta.url)),
    );
  });

  it('gives the allocator over the whole memory a start above the static data', async () => {
    const { core } = await loadCore();
    const allocator = RegionAllocator.forCore(core);
    expect(allocator.alloc(64)).toBeGreaterThanOrEqual(core.heapBase);
  });
});
