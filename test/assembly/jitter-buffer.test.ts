import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';

import {
  AudioCoreError,
  JITTER_EMPTY,
  JITTER_GAP,
  JitterBuffer,
  JitterInsert,
  PacketRing,
  type JitterBufferOptions,
} from '../../src/engine/audio-core.js';
import { loadCore, seededRandom, type CoreFixture } from './audio-core-fixture.js';

let fx: CoreFixture;

beforeAll(async () => {
  fx = await loadCore(64);
});

/** What one tick played: a sequence number, a gap, or nothing. */
type Played = number | 'gap' | 'empty';

/** A payload that names its sequence number, so a tick can say what it played. */
function payload(seq: number): Uint8Array {
  return Uint8Array.of(seq >> 8, seq & 0xff, 0xa5, seq & 0x0f);
}

function rtp(seq: number, extra = 20, version = 2): Uint8Array {
  const bytes = new Uint8Array(12 + extra);
  bytes[0] = version << 6;
  bytes[1] = 111;
  bytes[2] = seq >> 8;
  bytes[3] = seq & 0xff;
  for (let i = 12; i < bytes.length; i++) bytes[i] = (seq + i) & 0xff;
  return bytes;
}

/** Drives a buffer the way a media loop does: packets arrive, then one pop per tick. */
class Player {
  readonly jb: JitterBuffer;
  readonly #into = new Uint8Array(1500);

  constructor(options: JitterBufferOptions = {}) {
    this.jb = JitterBuffer.create(fx.core, fx.allocator, options);
  }

  give(...seqs: number[]): number[] {
    return seqs.map((seq) => this.jb.insert(seq & 0xffff, payload(seq & 0xffff)));
  }

  tick(...arrivals: number[]): Played {
    this.give(...arrivals);
    const length = this.jb.pop(this.#into);
    if (length === JITTER_GAP) return 'gap';
    if (length === JITTER_EMPTY) return 'empty';
    expect(length).toBe(4);
    expect(this.#into[2]).toBe(0xa5);
    return (this.#into[0]! << 8) | this.#into[1]!;
  }

  /** One tick per entry: each entry lists the sequence numbers arriving in that tick. */
  run(schedule: number[][]): Played[] {
    return schedule.map((arrivals) => this.tick(...arrivals));
  }

  release(): void {
    fx.allocator.release(this.jb.ptr);
  }
}

/** One arrival per tick, in order, for `count` ticks from `first`, skipping `lost`. */
function steady(first: number, count: number, lost: readonly number[] = []): number[][] {
  return Array.from({ length: count }, (_, i) => {
    const seq = (first + i) & 0xffff;
    return lost.includes(seq) ? [] : [seq];
  });
}

function playedOnly(out: Played[]): number[] {
  return out.filter((p): p is number => typeof p === 'number');
}

describe('JitterBuffer', () => {
  it('says empty before any packet arrives', () => {
    const p = new Player();
    expect(p.tick()).toBe('empty');
    expect(p.jb.stats()).toMatchObject({ received: 0, played: 0, lost: 0, underruns: 0 });
  });

  it('waits until its depth is buffered, then plays one packet per tick in order', () => {
    const p = new Player({ minDepth: 2 });
    expect(p.run(steady(100, 5))).toEqual(['empty', 100, 101, 102, 103]);
    expect(p.jb.stats()).toMatchObject({ received: 5, played: 4, lost: 0, buffered: 1, depth: 2 });
  });

  it('puts swapped packets back in order and counts them as reordered', () => {
    const p = new Player({ minDepth: 2 });
    const out = p.run([[0], [1], [3], [2], [4], [5], [6]]);
    expect(out).toEqual(['empty', 0, 1, 2, 3, 4, 5]);
    expect(p.jb.stats()).toMatchObject({ reordered: 1, lost: 0, late: 0 });
  });

  it('holds playout back a tick to build the extra depth a reorder showed it needs', () => {
    const p = new Player({ minDepth: 2, maxDepth: 10 });
    const out = p.run([[0], [1], [4], [2], [3], [5], [6], [7], [8]]);
    expect(out).toEqual(['empty', 0, 1, 'empty', 2, 3, 4, 5, 6]);
    expect(p.jb.stats()).toMatchObject({ depth: 3, reordered: 2, lost: 0, late: 0, buffered: 2 });
  });

  it('crosses the sequence wrap from 65535 to 0 in order', () => {
    const p = new Player({ minDepth: 2 });
    const out = p.run(steady(65_530, 12));
    expect(playedOnly(out)).toEqual([
      65_530, 65_531, 65_532, 65_533, 65_534, 65_535, 0, 1, 2, 3, 4,
    ]);
    expect(p.jb.stats()).toMatchObject({ lost: 0, late: 0, reordered: 0, resyncs: 0 });
  });

  it('reorders packets that straddle the wrap', () => {
    const p = new Player({ minDepth: 3 });
    const out = p.run([[65_533], [65_534], [0], [65_535], [2], [1], [3], [4], [5]]);
    expect(playedOnly(out)).toEqual([65_533, 65_534, 65_535, 0, 1, 2, 3]);
    expect(p.jb.stats()).toMatchObject({ reordered: 2, lost: 0, late: 0 });
  });

  it('opens the stream at an earlier packet that arrives before playout starts', () => {
    const p = new Player({ minDepth: 3 });
    expect(p.run([[11], [10], [12], [13]])).toEqual(['empty', 'empty', 10, 11]);
    expect(p.jb.stats()).toMatchObject({ late: 0, reordered: 1 });
  });

  it('drops a duplicate of a packet it holds', () => {
    const p = new Player({ minDepth: 2 });
    expect(p.give(10, 10)).toEqual([JitterInsert.stored, JitterInsert.duplicate]);
    expect(p.run([[11], [12], [13]])).toEqual([10, 11, 12]);
    expect(p.jb.stats()).toMatchObject({ duplicates: 1, played: 3 });
  });

  it('drops a late copy of a packet it already played as a duplicate, not as late', () => {
    const p = new Player({ minDepth: 2 });
    p.run([[10], [11], [12]]);
    expect(p.give(10)).toEqual([JitterInsert.duplicate]);
    expect(p.jb.stats()).toMatchObject({ duplicates: 1, late: 0, depth: 2 });
  });

  it('drops a packet whose turn has passed, counts it late and deepens', () => {
    const p = new Player({ minDepth: 2, maxDepth: 10 });
    const out = p.run(steady(0, 6, [3]));
    expect(out).toEqual(['empty', 0, 1, 2, 'gap', 4]);
    expect(p.give(3)).toEqual([JitterInsert.late]);
    expect(p.jb.stats()).toMatchObject({ late: 1, lost: 1, played: 4 });
    // It missed its turn by two places, so the buffer wants two more packets of depth.
    expect(p.jb.depth).toBe(4);
  });

  it('reports a gap for each packet lost between packets it holds', () => {
    const p = new Player({ minDepth: 4 });
    const out = p.run(steady(0, 14, [5, 6]));
    expect(out.slice(3)).toEqual([0, 1, 2, 3, 4, 'gap', 'gap', 7, 8, 9, 10]);
    expect(p.jb.stats()).toMatchObject({ lost: 2, underruns: 0 });
  });

  it('skips a burst of loss that ran it dry, then rebuilds its depth and plays on in order', () => {
    const p = new Player({ minDepth: 2, maxDepth: 10 });
    const burst = [10, 11, 12, 13, 14];
    const out = p.run(steady(0, 30, burst));

    const played = playedOnly(out);
    expect(played.slice(0, 10)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(played.slice(10)).toEqual(Array.from({ length: played.length - 10 }, (_, i) => 15 + i));
    expect(p.jb.stats()).toMatchObject({ lost: 5, underruns: 1, depth: 3, late: 0 });
    // Playout resumed with three packets buffered, not one.
    expect(p.jb.stats().buffered).toBe(2);
  });

  it('never deepens past maxDepth', () => {
    const p = new Player({ minDepth: 2, maxDepth: 6, capacity: 32 });
    // Blocks of ten sent in reverse: displacements of up to nine places.
    const schedule: number[][] = [];
    for (let block = 0; block < 10; block++) {
      const seqs = Array.from({ length: 10 }, (_, i) => block * 10 + 9 - i);
      for (const seq of seqs) schedule.push([seq]);
    }
    p.run(schedule);
    expect(p.jb.depth).toBe(6);
    expect(p.jb.stats().reordered).toBeGreaterThan(0);
  });

  it('shrinks back to minDepth one step per calm stretch, never below, and cuts the delay', () => {
    const p = new Player({ minDepth: 2, maxDepth: 8, shrinkAfterTicks: 20 });
    p.run([[0], [1], [9], [2], [3], [4], [5], [6], [7], [8]]);
    expect(p.jb.depth).toBe(8);
    const deep = p.jb.stats().buffered;

    const depths: number[] = [];
    for (let seq = 10; seq < 400; seq++) {
      p.tick(seq);
      depths.push(p.jb.depth);
    }
    expect(depths.every((d, i) => i === 0 || d <= depths[i - 1]!)).toBe(true);
    expect(depths.at(-1)).toBe(2);
    expect(new Set(depths)).toEqual(new Set([8, 7, 6, 5, 4, 3, 2]));

    // With the target back at two, packets held beyond it were dropped to cut the delay.
    const after = p.jb.stats();
    expect(after.buffered).toBeLessThan(deep);
    expect(after.buffered).toBeLessThanOrEqual(3);
    expect(after.discarded).toBeGreaterThan(0);
  });

  it('deepens by one each time it runs dry while playing', () => {
    const p = new Player({ minDepth: 2, maxDepth: 10 });
    p.run([[0], [1], [2], [], [], [3, 4, 5], [6]]);
    expect(p.jb.stats()).toMatchObject({ underruns: 1, depth: 3, lost: 0 });
  });

  it('restarts at a far jump once the next packet confirms it', () => {
    const p = new Player({ minDepth: 2 });
    p.run(steady(0, 10));
    expect(p.give(20_000)).toEqual([JitterInsert.jump]);
    expect(p.give(20_001)).toEqual([JitterInsert.stored]);
    const out = p.run(steady(20_002, 5));
    expect(playedOnly(out)).toEqual([20_001, 20_002, 20_003, 20_004, 20_005]);
    expect(p.jb.stats()).toMatchObject({ resyncs: 1, late: 0 });
  });

  it('ignores a lone stray packet far from the stream', () => {
    const p = new Player({ minDepth: 2 });
    const out = p.run([[0], [1], [2, 40_000], [3], [4], [5]]);
    expect(out).toEqual(['empty', 0, 1, 2, 3, 4]);
    expect(p.jb.stats()).toMatchObject({ resyncs: 0, lost: 0, discarded: 1 });
  });

  it('counts every packet of a long outage as lost and resumes at the new packets', () => {
    const p = new Player({ minDepth: 2 });
    const before = p.run([
      ...steady(0, 12),
      ...steady(
        0,
        30,
        Array.from({ length: 30 }, (_, i) => i),
      ),
    ]);
    expect(playedOnly(before)).toEqual(Array.from({ length: 12 }, (_, i) => i));

    const after = p.run(steady(500, 10));
    expect(after).toEqual(['empty', 'empty', 500, 501, 502, 503, 504, 505, 506, 507]);
    expect(p.jb.stats()).toMatchObject({ lost: 488, late: 0, resyncs: 0, underruns: 1 });
  });

  it('restarts playout when a packet far ahead arrives while it still holds older ones', () => {
    const p = new Player({ minDepth: 2 });
    p.run(steady(0, 12));
    // No tick ran during the outage, so packet 11 is still held when 500 arrives.
    const out = p.run(steady(500, 10));
    expect(out).toEqual(['empty', 500, 501, 502, 503, 504, 505, 506, 507, 508]);
    expect(p.jb.stats()).toMatchObject({ lost: 488, discarded: 1, late: 0 });
  });

  it('reads the sequence number from the RTP header and refuses what is not RTP', () => {
    const jb = JitterBuffer.create(fx.core, fx.allocator, { minDepth: 1, maxPacket: 200 });
    expect(jb.insertRtp(rtp(4242))).toBe(JitterInsert.stored);
    expect(jb.insertRtp(new Uint8Array(11))).toBe(JitterInsert.invalid);
    expect(jb.insertRtp(rtp(4243, 20, 1))).toBe(JitterInsert.invalid);
    expect(jb.insertRtp(rtp(4243, 189))).toBe(JitterInsert.invalid);
    expect(jb.stats()).toMatchObject({ received: 1, invalid: 3 });

    expect(jb.popStaged()).toBe(32);
    expect(jb.staged.subarray(0, 32)).toEqual(rtp(4242));
    expect(jb.nextSeq).toBe(4243);
  });

  it('drains RTP packets from a packet ring without leaving wasm', () => {
    const ring = PacketRing.create(fx.core, fx.allocator, { capacity: 8192, maxRecord: 1500 });
    const jb = JitterBuffer.create(fx.core, fx.allocator, { minDepth: 1, maxPacket: 300 });
    for (const seq of [7, 5, 6, 9, 8]) ring.push(rtp(seq));
    ring.push(rtp(10, 400));

    expect(jb.drain(ring)).toBe(6);
    expect(ring.stats().usedBytes).toBe(0);
    expect(jb.stats()).toMatchObject({ received: 5, invalid: 1 });

    const into = new Uint8Array(300);
    const seqs: number[] = [];
    for (let length = jb.pop(into); length > 0; length = jb.pop(into)) {
      seqs.push((into[2]! << 8) | into[3]!);
    }
    expect(seqs).toEqual([5, 6, 7, 8, 9]);
  });

  it('refuses a pop destination shorter than maxPacket', () => {
    const jb = JitterBuffer.create(fx.core, fx.allocator, { maxPacket: 300 });
    expect(() => jb.pop(new Uint8Array(299))).toThrow(AudioCoreError);
  });

  it('accounts for every packet, in any mix of loss, delay, duplicates and wrap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 65_535 }),
        fc.integer({ min: 1, max: 2 ** 31 }),
        fc.double({ min: 0, max: 0.3, noNaN: true }),
        fc.double({ min: 0, max: 0.2, noNaN: true }),
        fc.integer({ min: 0, max: 12 }),
        (first, seed, lossRate, duplicateRate, maxDelay) => {
          const random = seededRandom(seed);
          const count = 300;
          const schedule: number[][] = Array.from({ length: count + maxDelay + 60 }, () => []);
          const arrive = (seq: number, at: number) => schedule[at]!.push((first + seq) & 0xffff);
          for (let i = 0; i < count; i++) {
            if (random() < lossRate) continue;
            arrive(i, i + Math.floor(random() * (maxDelay + 1)));
            if (random() < duplicateRate) arrive(i, i + Math.floor(random() * (maxDelay + 1)));
          }

          const p = new Player({ minDepth: 2, maxDepth: 16 });
          const played = playedOnly(p.run(schedule));
          const s = p.jb.stats();
          const nextSeq = p.jb.nextSeq;
          p.release();

          // Strictly in sequence order, each at most once.
          for (let i = 1; i < played.length; i++) {
            const step = (played[i]! - played[i - 1]!) & 0xffff;
            if (step === 0 || step >= 0x8000) return false;
          }
          // Every arrival ends played, dropped for a reason, or still held.
          if (s.received !== s.played + s.discarded + s.duplicates + s.late + s.buffered) {
            return false;
          }
          // Every sequence number the playout passed was played, lost or dropped, once.
          const passed = played.length === 0 ? 0 : (nextSeq - played[0]!) & 0xffff;
          return s.played + s.lost + s.discarded === passed && s.depth >= 2 && s.depth <= 16;
        },
      ),
      { numRuns: 200 },
    );
  });
});
