import { beforeAll, describe, expect, it } from 'vitest';

import { AudioCoreError, FRAME_SAMPLES, PcmRing } from '../../src/engine/audio-core.js';
import { loadCore, type CoreFixture } from './audio-core-fixture.js';

let fx: CoreFixture;

beforeAll(async () => {
  fx = await loadCore();
});

function frame(index: number): Int16Array {
  const samples = new Int16Array(FRAME_SAMPLES);
  for (let i = 0; i < FRAME_SAMPLES; i++) samples[i] = ((index * 7919 + i * 13) % 65_536) - 32_768;
  return samples;
}

function sameAs(got: Int16Array, index: number): boolean {
  const want = frame(index);
  for (let i = 0; i < FRAME_SAMPLES; i++) if (got[i] !== want[i]) return false;
  return true;
}

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return error instanceof AudioCoreError ? error.code : 'not an AudioCoreError';
  }
  return undefined;
}

describe('PcmRing', () => {
  it('hands back a frame sample for sample', () => {
    const ring = PcmRing.create(fx.core, fx.allocator, { frames: 4 });
    expect(ring.push(frame(1))).toBe(true);

    const into = new Int16Array(FRAME_SAMPLES);
    expect(ring.pop(into)).toBe(true);
    expect(sameAs(into, 1)).toBe(true);
    expect(ring.stats()).toEqual({ pushed: 1, popped: 1, dropped: 0, length: 0 });
  });

  it('says empty when there is no frame', () => {
    const ring = PcmRing.create(fx.core, fx.allocator, { frames: 4 });
    expect(ring.pop(new Int16Array(FRAME_SAMPLES))).toBe(false);
    expect(ring.peek()).toBeNull();
  });

  it('refuses a frame when full and counts the drop', () => {
    const ring = PcmRing.create(fx.core, fx.allocator, { frames: 4 });
    for (let i = 0; i < 4; i++) expect(ring.push(frame(i))).toBe(true);
    expect(ring.push(frame(4))).toBe(false);
    expect(ring.reserve()).toBeNull();
    expect(ring.stats()).toEqual({ pushed: 4, popped: 0, dropped: 2, length: 4 });

    // The refused frames never overwrote the oldest one.
    const into = new Int16Array(FRAME_SAMPLES);
    ring.pop(into);
    expect(sameAs(into, 0)).toBe(true);
    expect(ring.push(frame(5))).toBe(true);
  });

  it('keeps frames in order through many laps of the ring and a wrap of its positions', () => {
    const ring = PcmRing.create(fx.core, fx.allocator, { frames: 8 });
    fx.core.exports.pcmRingInit(ring.ptr, 8, 0xffff_fff0);
    const into = new Int16Array(FRAME_SAMPLES);
    let pushed = 0;
    let popped = 0;
    let wrong = 0;

    while (popped < 2_000) {
      for (let n = pushed % 5; n >= 0 && ring.push(frame(pushed)); n--) pushed++;
      for (let n = popped % 3; n >= 0 && ring.pop(into); n--) {
        if (!sameAs(into, popped)) wrong++;
        popped++;
      }
    }
    expect(wrong).toBe(0);
  });

  it('lets a producer fill a frame in place and a consumer read it in place', () => {
    const ring = PcmRing.create(fx.core, fx.allocator, { frames: 2 });
    const slot = ring.reserve();
    expect(slot).not.toBeNull();
    slot?.set(frame(7));
    expect(ring.stats().length).toBe(0);
    ring.commit();

    const oldest = ring.peek();
    expect(oldest !== null && sameAs(oldest, 7)).toBe(true);
    expect(ring.stats().length).toBe(1);
    ring.release();
    expect(ring.stats()).toMatchObject({ pushed: 1, popped: 1, length: 0 });
  });

  it('copies frames that already live in the shared memory without a JS copy', () => {
    const ring = PcmRing.create(fx.core, fx.allocator, { frames: 2 });
    const area = fx.allocator.alloc(2 * FRAME_SAMPLES * 2);
    const source = new Int16Array(fx.core.buffer, area, FRAME_SAMPLES);
    const target = new Int16Array(fx.core.buffer, area + FRAME_SAMPLES * 2, FRAME_SAMPLES);
    source.set(frame(11));

    expect(ring.push(source)).toBe(true);
    expect(ring.pop(target)).toBe(true);
    expect(sameAs(target, 11)).toBe(true);
    expect(ring.stats()).toMatchObject({ pushed: 1, popped: 1 });
  });

  it('refuses to commit or release a frame that was never taken', () => {
    const ring = PcmRing.create(fx.core, fx.allocator, { frames: 2 });
    expect(codeOf(() => ring.commit())).toBe('no_slot_taken');
    expect(codeOf(() => ring.release())).toBe('no_slot_taken');
  });

  it('refuses frames of the wrong length', () => {
    const ring = PcmRing.create(fx.core, fx.allocator, { frames: 2 });
    expect(codeOf(() => ring.push(new Int16Array(480)))).toBe('invalid_frame');
    expect(codeOf(() => ring.pop(new Int16Array(959)))).toBe('invalid_frame');
    expect(ring.stats().pushed).toBe(0);
  });

  it('is shared with a second handle attached by pointer', () => {
    const producer = PcmRing.create(fx.core, fx.allocator, { frames: 4 });
    const consumer = PcmRing.attach(fx.core, producer.ptr);
    expect(consumer.frames).toBe(4);
    producer.push(frame(3));
    const into = new Int16Array(FRAME_SAMPLES);
    expect(consumer.pop(into)).toBe(true);
    expect(sameAs(into, 3)).toBe(true);
  });
});
