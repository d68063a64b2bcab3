import { beforeAll, describe, expect, it } from 'vitest';

import {
  AudioCoreError,
  JitterBuffer,
  LevelMeter,
  PacketRing,
  PcmRing,
} from '../../src/engine/audio-core.js';
import { loadCore, type CoreFixture } from '../assembly/audio-core-fixture.js';

let fx: CoreFixture;

beforeAll(async () => {
  fx = await loadCore();
});

/** The error a setup call throws, as `code: message`. */
function failure(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof AudioCoreError) return `${error.code}: ${error.message}`;
    throw error;
  }
  return 'no error';
}

describe('audio core options', () => {
  it('rejects packet ring sizes, naming the option and the value', () => {
    const create = (options: object) => () => PacketRing.create(fx.core, fx.allocator, options);
    expect(failure(create({ capacity: 5000 }))).toMatch(/^invalid_option: capacity .* got 5000$/);
    expect(failure(create({ maxRecord: 0 }))).toMatch(/^invalid_option: maxRecord .* got 0$/);
    expect(failure(create({ capacity: 4096, maxRecord: 4093 }))).toMatch(
      /^invalid_option: capacity 4096 .* maxRecord 4093/,
    );
  });

  it('rejects PCM ring sizes, naming the option and the value', () => {
    const create = (frames: number) => () => PcmRing.create(fx.core, fx.allocator, { frames });
    expect(failure(create(3))).toMatch(/^invalid_option: frames .* got 3$/);
    expect(failure(create(1))).toMatch(/^invalid_option: frames .* got 1$/);
  });

  it('rejects jitter buffer settings, naming the option and the value', () => {
    const create = (options: object) => () => JitterBuffer.create(fx.core, fx.allocator, options);
    expect(failure(create({ capacity: 48 }))).toMatch(/^invalid_option: capacity .* got 48$/);
    expect(failure(create({ capacity: 16, maxDepth: 8 }))).toMatch(
      /^invalid_option: maxDepth .* to 7, got 8$/,
    );
    expect(failure(create({ minDepth: 5, maxDepth: 4 }))).toMatch(
      /^invalid_option: minDepth .* got 5$/,
    );
    expect(failure(create({ maxPacket: 11 }))).toMatch(/^invalid_option: maxPacket .* got 11$/);
    expect(failure(create({ shrinkAfterTicks: 0.5 }))).toMatch(
      /^invalid_option: shrinkAfterTicks .* got 0.5$/,
    );
  });

  it('rejects level meter settings, naming the option and the value', () => {
    const create = (options: object) => () => LevelMeter.create(fx.core, fx.allocator, options);
    expect(failure(create({ thresholdDbfs: 3 }))).toMatch(
      /^invalid_option: thresholdDbfs .* got 3$/,
    );
    expect(failure(create({ thresholdDbfs: Number.NaN }))).toMatch(/thresholdDbfs .* got NaN$/);
    expect(failure(create({ hangoverFrames: -1 }))).toMatch(
      /^invalid_option: hangoverFrames .* got -1$/,
    );
  });

  it('rejects attaching to a pointer outside the memory', () => {
    expect(failure(() => PacketRing.attach(fx.core, fx.core.byteLength))).toMatch(
      /^invalid_option: ptr /,
    );
    expect(failure(() => PcmRing.attach(fx.core, 0))).toMatch(/^invalid_option: ptr .* got 0$/);
  });

  it('leaves the allocator untouched when options are rejected', () => {
    const before = fx.allocator.usedBytes;
    failure(() => JitterBuffer.create(fx.core, fx.allocator, { capacity: 3 }));
    expect(fx.allocator.usedBytes).toBe(before);
  });
});
