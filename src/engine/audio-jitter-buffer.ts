import type { AudioCore } from './audio-core.js';
import type { RegionAllocator } from './audio-allocator.js';
import type { JitterInsertResult } from './audio-constants.js';
import { AudioCoreError } from './audio-error.js';
import type { AudioCoreExports } from './audio-exports.js';
import { integerOption, powerOfTwoOption } from './audio-options.js';
import type { PacketRing } from './audio-packet-ring.js';

/** How a jitter buffer is sized and how its depth adapts. */
export interface JitterBufferOptions {
  /** Packet slots: a power of two from 8 to 1024, more than twice `maxDepth` (default 64). */
  capacity?: number;
  /** Longest packet kept, in bytes (default 1500). */
  maxPacket?: number;
  /** Depth it starts at and never goes under, in packets (default 2, 40 ms). */
  minDepth?: number;
  /** Depth it never goes over, in packets (default 16, 320 ms). */
  maxDepth?: number;
  /** Playing ticks without trouble before the depth drops by one (default 250, 5 s). */
  shrinkAfterTicks?: number;
}

/** Counters of a jitter buffer. */
export interface JitterBufferStats {
  /** Packets offered (all but invalid ones), duplicates and late ones included. */
  received: number;
  /** Packets played. */
  played: number;
  /** Sequence numbers given up on: each was a gap or was skipped after the buffer ran dry. */
  lost: number;
  /** Packets that came after a later one and were still in time. */
  reordered: number;
  /** Copies of a packet held or already played. */
  duplicates: number;
  /** Packets that came after their turn. */
  late: number;
  /** Packets received but never played: dropped to cut delay, or at a sequence jump. */
  discarded: number;
  /** Restarts after a confirmed sequence jump. */
  resyncs: number;
  /** Times the buffer ran dry while playing. */
  underruns: number;
  /** Packets refused as too long or not RTP. */
  invalid: number;
  /** Current target depth, in packets. */
  depth: number;
  /** Packets held now. */
  buffered: number;
}

/**
 * Puts one RTP stream back in order for playout, one packet per 20 ms tick: see the
 * AssemblyScript side for the rules. A jitter buffer belongs to one thread (the media
 * worker that plays the call) and is carved from that thread's own allocator.
 */
export class JitterBuffer {
  /** Where the buffer lives in the shared memory. */
  readonly ptr: number;
  /** Longest packet kept. */
  readonly maxPacket: number;
  /** The wasm functions. */
  readonly #core: AudioCoreExports;
  /** The memory's bytes when it was made, to spot packets already in it. */
  readonly #buffer: ArrayBufferLike;
  /** Scratch area for packets going in and out. */
  readonly #staging: Uint8Array;

  private constructor(core: AudioCore, ptr: number, maxPacket: number) {
    this.#core = core.exports;
    this.ptr = ptr;
    this.maxPacket = maxPacket;
    this.#buffer = core.buffer;
    this.#staging = new Uint8Array(this.#buffer, core.exports.jitterStaging(ptr), maxPacket);
  }

  /** Bytes a buffer with these options takes. */
  static bytes(core: AudioCore, options: JitterBufferOptions = {}): number {
    const o = checkOptions(options);
    return core.exports.jitterBytes(o.capacity, o.maxPacket);
  }

  /** Carves a new, empty buffer from `allocator`. */
  static create(
    core: AudioCore,
    allocator: RegionAllocator,
    options: JitterBufferOptions = {},
  ): JitterBuffer {
    const o = checkOptions(options);
    const ptr = allocator.alloc(core.exports.jitterBytes(o.capacity, o.maxPacket));
    core.exports.jitterInit(ptr, o.capacity, o.maxPacket, o.minDepth, o.maxDepth, o.shrinkAfter);
    return new JitterBuffer(core, ptr, o.maxPacket);
  }

  /** Adds a packet with 16-bit sequence number `seq`; never throws on the packet itself. */
  insert(seq: number, packet: Uint8Array): JitterInsertResult {
    return this.#core.jitterInsert(
      this.ptr,
      seq,
      this.#place(packet),
      packet.length,
    ) as JitterInsertResult;
  }

  /** Adds an RTP packet, taking the sequence number from its header. */
  insertRtp(packet: Uint8Array): JitterInsertResult {
    return this.#core.jitterInsertRtp(
      this.ptr,
      this.#place(packet),
      packet.length,
    ) as JitterInsertResult;
  }

  /**
   * Moves every packet waiting in `ring` into the buffer without leaving wasm. This thread
   * must be the ring's consumer. Returns how many packets it took.
   */
  drain(ring: PacketRing): number {
    return this.#core.jitterDrainRing(this.ptr, ring.ptr);
  }

  /**
   * Plays one tick. Copies the next packet into `into` (at least `maxPacket` bytes) and
   * returns its length, or returns JITTER_GAP (a packet is missing: conceal a frame) or
   * JITTER_EMPTY (nothing to play).
   */
  pop(into: Uint8Array): number {
    if (into.length < this.maxPacket) {
      throw new AudioCoreError(
        'buffer_too_small',
        `into must hold maxPacket (${this.maxPacket}) bytes, got ${into.length}`,
      );
    }
    if (into.buffer === this.#buffer) return this.#core.jitterPop(this.ptr, into.byteOffset);
    const length = this.popStaged();
    // A short-lived view is the cheapest copy here: element loops over shared memory are slower.
    if (length > 0) into.set(this.#staging.subarray(0, length));
    return length;
  }

  /** Like `pop`, but leaves the packet in `staged` (valid until the next call on this buffer). */
  popStaged(): number {
    return this.#core.jitterPop(this.ptr, this.#staging.byteOffset);
  }

  /** The scratch area: after `popStaged` returns n, the packet is its first n bytes. */
  get staged(): Uint8Array {
    return this.#staging;
  }

  /** Current target depth, in packets. */
  get depth(): number {
    return this.#core.jitterDepth(this.ptr);
  }

  /** Sequence number the next pop plays (meaningless before the first packet). */
  get nextSeq(): number {
    return this.#core.jitterNextSeq(this.ptr);
  }

  /** The buffer's counters. */
  stats(): JitterBufferStats {
    const x = this.#core;
    const jb = this.ptr;
    return {
      received: x.jitterReceived(jb),
      played: x.jitterPlayed(jb),
      lost: x.jitterLost(jb),
      reordered: x.jitterReordered(jb),
      duplicates: x.jitterDuplicates(jb),
      late: x.jitterLate(jb),
      discarded: x.jitterDiscarded(jb),
      resyncs: x.jitterResyncs(jb),
      underruns: x.jitterUnderruns(jb),
      invalid: x.jitterInvalid(jb),
      depth: x.jitterDepth(jb),
      buffered: x.jitterBuffered(jb),
    };
  }

  /** The packet's address in the memory, staging it first if it lives elsewhere. */
  #place(packet: Uint8Array): number {
    if (packet.buffer === this.#buffer) return packet.byteOffset;
    // An oversize packet is not copied: the wasm side refuses it by length alone.
    if (packet.length <= this.maxPacket) this.#staging.set(packet);
    return this.#staging.byteOffset;
  }
}

interface CheckedOptions {
  capacity: number;
  maxPacket: number;
  minDepth: number;
  maxDepth: number;
  shrinkAfter: number;
}

function checkOptions(options: JitterBufferOptions): CheckedOptions {
  const capacity = powerOfTwoOption('capacity', options.capacity ?? 64, 8, 1_024);
  const maxPacket = integerOption('maxPacket', options.maxPacket ?? 1500, 12, 65_535);
  const maxDepth = integerOption('maxDepth', options.maxDepth ?? 16, 1, capacity / 2 - 1);
  const minDepth = integerOption('minDepth', options.minDepth ?? 2, 1, maxDepth);
  const shrinkAfter = integerOption(
    'shrinkAfterTicks',
    options.shrinkAfterTicks ?? 250,
    1,
    2 ** 31,
  );
  return { capacity, maxPacket, minDepth, maxDepth, shrinkAfter };
}
