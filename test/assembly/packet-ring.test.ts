import { beforeAll, describe, expect, it } from 'vitest';

import { AudioCoreError, PacketRing, RING_EMPTY } from '../../src/engine/audio-core.js';
import { loadCore, seededRandom, type CoreFixture } from './audio-core-fixture.js';

let fx: CoreFixture;

beforeAll(async () => {
  fx = await loadCore();
});

function packet(index: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (index * 31 + i * 7) & 0xff;
  return bytes;
}

/** Counts bytes of `got` that differ from packet `index` (comparing by hand: toEqual is slow). */
function mismatches(got: Uint8Array, index: number): number {
  let bad = 0;
  for (let i = 0; i < got.length; i++) if (got[i] !== ((index * 31 + i * 7) & 0xff)) bad++;
  return bad;
}

function newRing(capacity = 4096, maxRecord = 1500): PacketRing {
  return PacketRing.create(fx.core, fx.allocator, { capacity, maxRecord });
}

describe('PacketRing', () => {
  it('hands back a packet byte for byte', () => {
    const ring = newRing();
    const sent = packet(1, 173);
    expect(ring.push(sent)).toBe(true);

    const into = new Uint8Array(1500);
    expect(ring.pop(into)).toBe(173);
    expect(into.subarray(0, 173)).toEqual(sent);
    expect(ring.stats()).toMatchObject({ pushed: 1, popped: 1, dropped: 0, usedBytes: 0 });
  });

  it('says empty when there is nothing to pop', () => {
    const ring = newRing();
    const into = new Uint8Array(1500);
    expect(ring.pop(into)).toBe(RING_EMPTY);
    expect(ring.popStaged()).toBe(RING_EMPTY);
    expect(ring.peekLength()).toBe(RING_EMPTY);
    expect(ring.skip()).toBe(false);

    ring.push(packet(2, 10));
    ring.pop(into);
    expect(ring.pop(into)).toBe(RING_EMPTY);
  });

  it('refuses a push when full, counts the drop, and takes packets again once drained', () => {
    const ring = newRing(4096, 1500);
    const sent = packet(3, 1000);
    let accepted = 0;
    while (ring.push(sent)) accepted++;

    // Each record takes 4 + 1000 bytes, so four fit in 4096.
    expect(accepted).toBe(4);
    expect(ring.push(sent)).toBe(false);
    expect(ring.stats()).toMatchObject({ pushed: 4, dropped: 2, usedBytes: 4016 });

    // A small packet still fits in the 80 bytes left.
    expect(ring.push(packet(4, 60))).toBe(true);

    const into = new Uint8Array(1500);
    expect(ring.pop(into)).toBe(1000);
    expect(ring.push(sent)).toBe(true);
  });

  it('refuses a packet longer than maxRecord and counts it apart from drops', () => {
    const ring = newRing(4096, 200);
    expect(ring.push(packet(5, 201))).toBe(false);
    expect(ring.push(packet(5, 200))).toBe(true);
    expect(ring.stats()).toMatchObject({ pushed: 1, dropped: 0, oversize: 1 });
  });

  it('keeps variable-length records intact as they wrap around the end of the ring', () => {
    const ring = newRing(4096, 1500);
    const random = seededRandom(7);
    const into = new Uint8Array(1500);
    let pushed = 0;
    let popped = 0;
    let lengthsOff = 0;
    let bytesOff = 0;
    const lengths: number[] = [];

    while (popped < 20_000) {
      // Push a random burst, then pop a random number, so the fill level wanders.
      for (let burst = Math.floor(random() * 6); burst > 0; burst--) {
        const length = 1 + Math.floor(random() * 1500);
        if (!ring.push(packet(pushed, length))) break;
        lengths.push(length);
        pushed++;
      }
      for (let take = Math.floor(random() * 6); take > 0 && popped < pushed; take--) {
        const length = ring.pop(into);
        if (length !== lengths[popped]) lengthsOff++;
        bytesOff += mismatches(into.subarray(0, length), popped);
        popped++;
      }
    }
    expect({ lengthsOff, bytesOff }).toEqual({ lengthsOff: 0, bytesOff: 0 });
    // Thousands of records of up to 1.5 KB through 4 KB: the data area wrapped many times.
    expect(ring.stats().popped).toBe(20_000);
  });

  it('keeps working when its 32-bit positions wrap past 2^32', () => {
    const ring = newRing(4096, 1500);
    fx.core.exports.packetRingInit(ring.ptr, 4096, 1500, 0xffff_f000);
    const into = new Uint8Array(1500);

    for (let i = 0; i < 200; i++) {
      const sent = packet(i, 1 + ((i * 97) % 900));
      expect(ring.push(sent)).toBe(true);
      expect(ring.pop(into)).toBe(sent.length);
      expect(mismatches(into.subarray(0, sent.length), i)).toBe(0);
    }
    expect(ring.stats().usedBytes).toBe(0);
  });

  it('keeps a packet that does not fit the destination and says so', () => {
    const ring = newRing();
    ring.push(packet(6, 300));

    const small = new Uint8Array(100);
    expect(() => ring.pop(small)).toThrow(AudioCoreError);
    try {
      ring.pop(small);
    } catch (error) {
      expect((error as AudioCoreError).code).toBe('buffer_too_small');
      expect((error as AudioCoreError).message).toContain('300');
    }
    expect(ring.pop(new Uint8Array(300))).toBe(300);
  });

  it('carries empty packets', () => {
    const ring = newRing();
    expect(ring.push(new Uint8Array(0))).toBe(true);
    expect(ring.peekLength()).toBe(0);
    expect(ring.pop(new Uint8Array(10))).toBe(0);
    expect(ring.pop(new Uint8Array(10))).toBe(RING_EMPTY);
  });

  it('moves packets that already live in the shared memory without staging them', () => {
    const ring = newRing();
    const area = fx.allocator.alloc(3000);
    const source = new Uint8Array(fx.core.buffer, area, 1500);
    const target = new Uint8Array(fx.core.buffer, area + 1500, 1500);
    source.set(packet(8, 500), 0);

    expect(ring.push(source.subarray(0, 500))).toBe(true);
    expect(ring.pop(target)).toBe(500);
    expect(target.subarray(0, 500)).toEqual(packet(8, 500));
  });

  it('leaves a popped packet in its staging area when asked to', () => {
    const ring = newRing();
    ring.push(packet(9, 42));
    expect(ring.popStaged()).toBe(42);
    expect(ring.staged.subarray(0, 42)).toEqual(packet(9, 42));
  });

  it('is seen the same way from a second handle attached by pointer', () => {
    const producer = newRing();
    const consumer = PacketRing.attach(fx.core, producer.ptr);
    expect(consumer.capacity).toBe(4096);
    expect(consumer.maxRecord).toBe(1500);

    producer.push(packet(10, 64));
    const into = new Uint8Array(1500);
    expect(consumer.pop(into)).toBe(64);
    expect(producer.stats().popped).toBe(1);
  });
});
