import type { AudioCore } from './audio-core.js';
import type { RegionAllocator } from './audio-allocator.js';
import { AudioCoreError } from './audio-error.js';
import type { AudioCoreExports } from './audio-exports.js';
import { integerOption, powerOfTwoOption } from './audio-options.js';

/** Returned by the wasm pop when the next record does not fit the destination. */
const RING_TOO_SMALL = -2;

/** Room the ring's header takes before the staging areas (mirrors the wasm layout). */
const HEADER_BYTES = 192;

/** Sizes of a packet ring. */
export interface PacketRingOptions {
  /** Bytes of record space: a power of two from 4 KiB to 1 GiB (default 32 KiB). */
  capacity?: number;
  /** Longest packet accepted, in bytes (default 1500, at most 65535). */
  maxRecord?: number;
}

/** Counters of a packet ring; any thread may read them. */
export interface PacketRingStats {
  /** Packets accepted. */
  pushed: number;
  /** Packets taken out. */
  popped: number;
  /** Packets refused because the ring was full. */
  dropped: number;
  /** Packets refused because they were longer than `maxRecord`. */
  oversize: number;
  /** Bytes waiting, with each record's 4-byte length and padding. */
  usedBytes: number;
}

/**
 * A single-producer single-consumer ring of packets in the shared audio memory: one thread
 * pushes (say, the main thread with RTP from WebRTC), one other thread pops (a media worker).
 * Each side makes its own `PacketRing` over the same pointer: `create` on one thread,
 * `attach` on the other. Push never throws on a packet: a full ring or an oversize packet
 * is refused and counted, because the producer may be running inside a native callback.
 */
export class PacketRing {
  /** Where the ring lives in the shared memory; send this to the other thread. */
  readonly ptr: number;
  /** Bytes of record space. */
  readonly capacity: number;
  /** Longest packet accepted. */
  readonly maxRecord: number;
  /** The wasm functions. */
  readonly #core: AudioCoreExports;
  /** The memory's bytes when this side was made, to spot packets already in it. */
  readonly #buffer: ArrayBufferLike;
  /** Where the producer side copies a packet before pushing it. */
  readonly #producerStaging: Uint8Array;
  /** Where the consumer side receives a packet. */
  readonly #consumerStaging: Uint8Array;

  private constructor(core: AudioCore, ptr: number) {
    const x = core.exports;
    this.#core = x;
    this.ptr = ptr;
    this.capacity = x.packetRingCapacity(ptr);
    this.maxRecord = x.packetRingMaxRecord(ptr);
    this.#buffer = core.buffer;
    this.#producerStaging = new Uint8Array(
      this.#buffer,
      x.packetRingProducerStaging(ptr),
      this.maxRecord,
    );
    this.#consumerStaging = new Uint8Array(
      this.#buffer,
      x.packetRingConsumerStaging(ptr),
      this.maxRecord,
    );
  }

  /** Bytes a ring with these options takes. */
  static bytes(core: AudioCore, options: PacketRingOptions = {}): number {
    const { capacity, maxRecord } = checkOptions(options);
    return core.exports.packetRingBytes(capacity, maxRecord);
  }

  /** Carves a new, empty ring from `allocator`. */
  static create(
    core: AudioCore,
    allocator: RegionAllocator,
    options: PacketRingOptions = {},
  ): PacketRing {
    const { capacity, maxRecord } = checkOptions(options);
    const ptr = allocator.alloc(core.exports.packetRingBytes(capacity, maxRecord));
    core.exports.packetRingInit(ptr, capacity, maxRecord, 0);
    return new PacketRing(core, ptr);
  }

  /** Opens the ring another thread created at `ptr`. */
  static attach(core: AudioCore, ptr: number): PacketRing {
    integerOption('ptr', ptr, core.heapBase, core.byteLength - HEADER_BYTES);
    return new PacketRing(core, ptr);
  }

  /**
   * Appends a packet; producer thread only. Returns false when the ring is full or the
   * packet is longer than `maxRecord` (both counted).
   */
  push(packet: Uint8Array): boolean {
    if (packet.buffer === this.#buffer) {
      return this.#core.packetRingPush(this.ptr, packet.byteOffset, packet.length) !== 0;
    }
    if (packet.length <= this.maxRecord) this.#producerStaging.set(packet);
    return (
      this.#core.packetRingPush(this.ptr, this.#producerStaging.byteOffset, packet.length) !== 0
    );
  }

  /**
   * Moves the next packet into `into` and returns its length, or RING_EMPTY. Consumer thread
   * only. Throws `buffer_too_small` (and keeps the packet) when `into` is too short.
   */
  pop(into: Uint8Array): number {
    if (into.buffer === this.#buffer) {
      return this.#checked(this.#core.packetRingPop(this.ptr, into.byteOffset, into.length), into);
    }
    const room = Math.min(into.length, this.maxRecord);
    const length = this.#checked(
      this.#core.packetRingPop(this.ptr, this.#consumerStaging.byteOffset, room),
      into,
    );
    // A short-lived view is the cheapest copy here: element loops over shared memory are slower.
    if (length > 0) into.set(this.#consumerStaging.subarray(0, length));
    return length;
  }

  /**
   * Moves the next packet into `staged` and returns its length, or RING_EMPTY: no copy
   * beyond the ring's own. Consumer thread only; the bytes stay until the next pop.
   */
  popStaged(): number {
    return this.#core.packetRingPop(this.ptr, this.#consumerStaging.byteOffset, this.maxRecord);
  }

  /** The consumer's staging area: after `popStaged` returns n, the packet is its first n bytes. */
  get staged(): Uint8Array {
    return this.#consumerStaging;
  }

  /** Length of the next packet, or RING_EMPTY. Consumer thread only. */
  peekLength(): number {
    return this.#core.packetRingPeekLength(this.ptr);
  }

  /** Drops the next packet; false when the ring is empty. Consumer thread only. */
  skip(): boolean {
    return this.#core.packetRingSkip(this.ptr) !== 0;
  }

  /** The ring's counters. */
  stats(): PacketRingStats {
    const x = this.#core;
    return {
      pushed: x.packetRingPushed(this.ptr),
      popped: x.packetRingPopped(this.ptr),
      dropped: x.packetRingDropped(this.ptr),
      oversize: x.packetRingOversize(this.ptr),
      usedBytes: x.packetRingUsedBytes(this.ptr),
    };
  }

  #checked(length: number, into: Uint8Array): number {
    if (length !== RING_TOO_SMALL) return length;
    throw new AudioCoreError(
      'buffer_too_small',
      `into holds ${into.length} bytes but the next packet has ${this.peekLength()}`,
    );
  }
}

function checkOptions(options: PacketRingOptions): { capacity: number; maxRecord: number } {
  const maxRecord = integerOption('maxRecord', options.maxRecord ?? 1500, 1, 65_535);
  const capacity = powerOfTwoOption('capacity', options.capacity ?? 32_768, 4_096, 2 ** 30);
  if (capacity < 4 + Math.ceil(maxRecord / 4) * 4) {
    throw new AudioCoreError(
      'invalid_option',
      `capacity ${capacity} cannot hold one record of maxRecord ${maxRecord} bytes`,
    );
  }
  return { capacity, maxRecord };
}
