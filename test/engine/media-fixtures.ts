import { createOpusCodec, type OpusCodec } from '../../workers/codec/opus-codec.js';
import { rtpPayloadOffset, writeRtpHeader } from '../../workers/media/rtp.js';

/** A 20 ms frame of a sine wave at `hz`, amplitude `amplitude` of full scale, from sample `at`. */
export function sineFrame(at: number, hz = 440, amplitude = 0.3): Int16Array {
  const frame = new Int16Array(960);
  for (let i = 0; i < frame.length; i++) {
    frame[i] = Math.round(Math.sin((2 * Math.PI * hz * (at + i)) / 48_000) * amplitude * 32767);
  }
  return frame;
}

/** RMS of a frame as a share of full scale. */
export function rms(frame: Int16Array): number {
  let sum = 0;
  for (const sample of frame) sum += sample * sample;
  return Math.sqrt(sum / frame.length) / 32768;
}

/** Makes the RTP packets a caller would send: Opus frames of a sine, in sequence. */
export class SineCaller {
  readonly #codec: OpusCodec = createOpusCodec();
  #sequence = 65_530;
  #samples = 0;

  constructor(
    readonly payloadType = 111,
    readonly ssrc = 0x1234_5678,
  ) {}

  /** The next packet (sequence numbers wrap past 65535 early on purpose). */
  next(): Buffer {
    const payload = this.#codec.encode(sineFrame(this.#samples));
    const packet = Buffer.alloc(12 + payload.length);
    writeRtpHeader(packet, this.payloadType, this.#sequence, this.#samples >>> 0, this.ssrc);
    packet.set(payload, 12);
    this.#sequence = (this.#sequence + 1) & 0xffff;
    this.#samples += 960;
    return packet;
  }

  close(): void {
    this.#codec.close();
  }
}

/** Decodes the Opus RTP packets a caller received and returns the RMS of each frame. */
export function levelsOf(packets: Buffer[]): number[] {
  const codec = createOpusCodec();
  try {
    return packets.map((packet) => rms(codec.decode(packet.subarray(rtpPayloadOffset(packet)))));
  } finally {
    codec.close();
  }
}
