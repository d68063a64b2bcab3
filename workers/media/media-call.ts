import {
  JITTER_EMPTY,
  JITTER_GAP,
  JitterBuffer,
  LevelMeter,
  PacketRing,
  type AudioCore,
  type RegionAllocator,
} from '../../src/engine/audio-core.js';
import { F64, type SlotTable } from '../../src/engine/slot-table.js';
import type { Agent } from '../agents/agent.js';
import { CodecError } from '../codec/codec-error.js';
import { createOpusCodec, type OpusCodec } from '../codec/opus-codec.js';
import type { MediaCallSpec } from './media-messages.js';
import { RTP_HEADER_BYTES, rtpPayloadEnd, rtpPayloadOffset, writeRtpHeader } from './rtp.js';

const FRAME_SAMPLES = 960;
/** Ticks between copies of the jitter buffer's counters to the slot (half a second). */
const STATS_EVERY_TICKS = 25;
/** Longest RTP packet taken from or put on a ring. */
const MAX_PACKET = 1500;

/** What one tick of a call did, for the loop to act on. */
export interface TickOutcome {
  /** The call's slot raised a stop in this tick. */
  stopped: boolean;
}

/**
 * One call on a media worker: the caller's packets from the inbound ring through the jitter
 * buffer and the decoder to the agent, and the agent's audio through the encoder to the
 * outbound ring. Counters are published to the call's slot once per tick.
 */
export class MediaCall {
  readonly spec: MediaCallSpec;
  readonly #slots: SlotTable;
  /** Caller's packets, filled by the main thread. */
  readonly #inbound: PacketRing;
  /** Packets for the caller, drained by the main thread. */
  readonly #outbound: PacketRing;
  /** Thread-local structures, in this worker's own memory. */
  readonly #jitter: JitterBuffer;
  readonly #meter: LevelMeter;
  readonly #codec: OpusCodec;
  readonly #agent: Agent;
  /** The worker's own allocator, which gets the jitter buffer and meter back at close. */
  readonly #allocator: RegionAllocator;
  /** Scratch for one packet popped from the jitter buffer. */
  readonly #packet = new Uint8Array(MAX_PACKET);
  /** Scratch for one outbound packet. */
  readonly #outPacket = new Uint8Array(MAX_PACKET);
  readonly #silence = new Int16Array(FRAME_SAMPLES);
  /** Outbound RTP state. */
  #sequence = Math.floor(Math.random() * 0x10000);
  #timestamp = Math.floor(Math.random() * 0x1_0000_0000) >>> 0;
  /** Whether the last tick sent a packet; the first packet of a talkspurt carries the marker. */
  #sentLastTick = false;
  /** Ticks run, to pace the copying of the jitter buffer's counters. */
  #ticks = 0;
  /** Whether any packet has been played, so silence before the first is not "concealed". */
  #playing = false;

  constructor(
    spec: MediaCallSpec,
    shared: AudioCore,
    local: AudioCore,
    localAllocator: RegionAllocator,
    slots: SlotTable,
    agent: Agent,
  ) {
    this.spec = spec;
    this.#slots = slots;
    this.#inbound = PacketRing.attach(shared, spec.inboundRing);
    this.#outbound = PacketRing.attach(shared, spec.outboundRing);
    this.#allocator = localAllocator;
    this.#jitter = JitterBuffer.create(local, localAllocator, { maxPacket: MAX_PACKET });
    try {
      this.#meter = LevelMeter.create(local, localAllocator);
    } catch (error) {
      localAllocator.release(this.#jitter.ptr);
      throw error;
    }
    try {
      this.#codec = createOpusCodec();
    } catch (error) {
      localAllocator.release(this.#jitter.ptr);
      localAllocator.release(this.#meter.ptr);
      throw error;
    }
    this.#agent = agent;
  }

  /** Runs one tick at `now`: in, decode, agent, encode, out, counters. */
  tick(now: number, latenessMs: number): void {
    const slots = this.#slots;
    const index = this.spec.slot.index;

    // In: every packet the main thread queued since the last tick goes into the jitter buffer.
    let length: number;
    while ((length = this.#inbound.popStaged()) > 0) {
      const packet = this.#inbound.staged.subarray(0, length);
      slots.add(index, F64.packetsIn, 1);
      slots.add(index, F64.bytesIn, length);
      this.#jitter.insertRtp(packet);
    }

    // One frame for the agent: decoded, concealed, or silence before the caller's first packet.
    const frame = this.#nextFrame();
    const voiced = this.#meter.update(frame);
    if (voiced) slots.set(index, F64.lastActivityAt, now);
    this.#agent.hear(frame, voiced);

    // Out: the agent's frame, if it has one this tick.
    const reply = this.#agent.speak();
    if (reply !== undefined) this.#send(reply);
    this.#sentLastTick = reply !== undefined;
    // The RTP clock runs whether or not the agent spoke, so the caller plays gaps as gaps.
    this.#timestamp = (this.#timestamp + FRAME_SAMPLES) >>> 0;

    // The jitter buffer's counters cost a dozen wasm reads and an object: copied to the slot
    // every half second rather than every tick; readers see them at most that late.
    this.#ticks += 1;
    if (this.#ticks % STATS_EVERY_TICKS === 0) this.#copyJitterStats();
    slots.set(index, F64.tickLatenessMs, latenessMs);
    slots.publish(index);
  }

  /** Tokens the agent reported; they count against the slot's budget. */
  addUsage(inputTokens: number, outputTokens: number): void {
    this.#slots.add(this.spec.slot.index, F64.inputTokens, inputTokens);
    this.#slots.add(this.spec.slot.index, F64.outputTokens, outputTokens);
  }

  #copyJitterStats(): void {
    const index = this.spec.slot.index;
    const jitter = this.#jitter.stats();
    this.#slots.set(index, F64.packetsLost, jitter.lost);
    this.#slots.set(index, F64.reordered, jitter.reordered);
    this.#slots.set(index, F64.late, jitter.late);
  }

  /** Closes the agent and the codec. The rings belong to the main thread. */
  close(reason: string): void {
    // A slot already handed to another call (after a timed-out remove) is not ours to write.
    if (this.#slots.isLive(this.spec.slot)) {
      this.#copyJitterStats();
      this.#slots.publish(this.spec.slot.index);
    }
    this.#agent.close(reason);
    this.#codec.close();
    // The worker runs for days: every call's memory goes back for the next call to reuse.
    this.#allocator.release(this.#jitter.ptr);
    this.#allocator.release(this.#meter.ptr);
  }

  #nextFrame(): Int16Array {
    const length = this.#jitter.pop(this.#packet);
    if (length === JITTER_EMPTY) return this.#silence;
    if (length === JITTER_GAP) return this.#conceal();

    this.#playing = true;
    const packet = this.#packet.subarray(0, length);
    const offset = rtpPayloadOffset(packet);
    const end = offset < 0 ? -1 : rtpPayloadEnd(packet, offset);
    if (end <= offset) return this.#conceal();
    try {
      return this.#codec.decode(packet.subarray(offset, end));
    } catch (error) {
      // A corrupt payload is one lost frame, not a failed call.
      if (error instanceof CodecError) return this.#conceal();
      throw error;
    }
  }

  #conceal(): Int16Array {
    if (!this.#playing) return this.#silence;
    this.#slots.add(this.spec.slot.index, F64.concealedFrames, 1);
    return this.#codec.conceal();
  }

  #send(frame: Int16Array): void {
    const payload = this.#codec.encode(frame);
    const length = RTP_HEADER_BYTES + payload.length;
    writeRtpHeader(
      this.#outPacket,
      this.spec.payloadType,
      this.#sequence,
      this.#timestamp,
      this.spec.ssrc,
      !this.#sentLastTick,
    );
    this.#outPacket.set(payload, RTP_HEADER_BYTES);
    this.#sequence = (this.#sequence + 1) & 0xffff;
    if (this.#outbound.push(this.#outPacket.subarray(0, length))) {
      this.#slots.add(this.spec.slot.index, F64.packetsOut, 1);
      this.#slots.add(this.spec.slot.index, F64.bytesOut, length);
    }
  }
}
