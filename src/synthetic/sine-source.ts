import { createOpusCodec } from '../../workers/codec/opus-codec.js';
import { writeRtpHeader } from '../../workers/media/rtp.js';

/** Samples in one 20 ms frame at 48 kHz. */
export const FRAME_SAMPLES = 960;
/** Bytes of the RTP header this source writes (no CSRCs, no extension). */
const RTP_HEADER_BYTES = 12;
/** Frames in the loop of encoded audio: one second, a whole number of periods of any integer Hz. */
const LOOP_FRAMES = 50;

/** A 20 ms frame of a sine wave at `hz`, amplitude `amplitude` of full scale, from sample `at`. */
export function sineFrame(at: number, hz = 440, amplitude = 0.3): Int16Array {
  const frame = new Int16Array(FRAME_SAMPLES);
  for (let i = 0; i < frame.length; i++) {
    frame[i] = Math.round(Math.sin((2 * Math.PI * hz * (at + i)) / 48_000) * amplitude * 32767);
  }
  return frame;
}

/** Encoded loops, by tone, shared by every source of a thread: encoding is the costly part. */
const loops = new Map<string, readonly Uint8Array[]>();

/**
 * One second of a sine as Opus packets, encoded once per thread. The encoder runs for two
 * seconds and the second one is kept, so the loop carries a warmed-up encoder's output and
 * joins end to start without a step (a whole number of periods fits in one second).
 */
function encodedLoop(hz: number, amplitude: number): readonly Uint8Array[] {
  const key = `${hz}/${amplitude}`;
  const cached = loops.get(key);
  if (cached !== undefined) return cached;
  const codec = createOpusCodec();
  try {
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 2 * LOOP_FRAMES; i++) {
      const payload = codec.encode(sineFrame(i * FRAME_SAMPLES, hz, amplitude));
      if (i >= LOOP_FRAMES) frames.push(payload.slice());
    }
    loops.set(key, frames);
    return frames;
  } finally {
    codec.close();
  }
}

/** How a sine source numbers and shapes its packets. */
export interface SineSourceOptions {
  /** The Opus payload type of the call. Default 111. */
  payloadType?: number;
  /** The SSRC of the stream. Default 0x12345678. */
  ssrc?: number;
  /** The first RTP sequence number, 0 to 65535. Default 0. */
  firstSequence?: number;
  /** The tone in Hz, a whole number from 20 to 20000. Default 440. */
  hz?: number;
  /** Amplitude as a share of full scale, above 0 and at most 1. Default 0.3. */
  amplitude?: number;
}

/**
 * The RTP packets a caller sends: 20 ms Opus frames of a sine (real Opus from `@evan/opus`,
 * loud enough to count as voice), with sequence numbers that wrap past 65535 and timestamps
 * that advance 960 per frame. Encodes one second per tone and thread once, then loops it, so
 * a process can feed many calls without spending a core on the encoder.
 */
export class SineSource {
  readonly payloadType: number;
  readonly ssrc: number;
  /** The encoded second this source loops over. */
  readonly #frames: readonly Uint8Array[];
  /** The next sequence number. */
  #sequence: number;
  /** Frames produced so far. */
  #count = 0;

  /** Throws a TypeError naming the option when one is out of range. */
  constructor(options: SineSourceOptions = {}) {
    const { payloadType = 111, ssrc = 0x1234_5678, firstSequence = 0 } = options;
    const { hz = 440, amplitude = 0.3 } = options;
    checkInteger('payloadType', payloadType, 0, 127);
    checkInteger('ssrc', ssrc, 0, 0xffff_ffff);
    checkInteger('firstSequence', firstSequence, 0, 0xffff);
    checkInteger('hz', hz, 20, 20_000);
    if (!(typeof amplitude === 'number' && amplitude > 0 && amplitude <= 1)) {
      throw new TypeError(`amplitude must be above 0 and at most 1, got ${String(amplitude)}`);
    }
    this.payloadType = payloadType;
    this.ssrc = ssrc;
    this.#sequence = firstSequence;
    this.#frames = encodedLoop(hz, amplitude);
  }

  /** Packets produced so far. */
  get sent(): number {
    return this.#count;
  }

  /** The next packet: a fresh buffer the caller may hand to the transport. */
  next(): Buffer {
    const payload = this.#frames[this.#count % this.#frames.length] as Uint8Array;
    const packet = Buffer.allocUnsafe(RTP_HEADER_BYTES + payload.length);
    const timestamp = (this.#count * FRAME_SAMPLES) >>> 0;
    writeRtpHeader(packet, this.payloadType, this.#sequence, timestamp, this.ssrc);
    packet.set(payload, RTP_HEADER_BYTES);
    this.#sequence = (this.#sequence + 1) & 0xffff;
    this.#count += 1;
    return packet;
  }
}

function checkInteger(name: string, value: unknown, min: number, max: number): void {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    throw new TypeError(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
}
