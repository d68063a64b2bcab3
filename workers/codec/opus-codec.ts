import { CodecError } from './codec-error.js';
import { WasmOpusCodec } from './wasm-opus-codec.js';

/**
 * One call's Opus encoder and decoder, for 48 kHz mono 16-bit PCM in 20 ms frames of 960 samples.
 * Every method is synchronous and meant for one thread; refused input throws a CodecError and
 * leaves the codec usable.
 */
export interface OpusCodec {
  /** Encodes one frame of exactly 960 samples into one Opus packet. */
  encode(pcm: Int16Array): Uint8Array;

  /**
   * Decodes one Opus RTP payload carrying 20 ms of audio into 960 samples. Refuses empty,
   * oversized and corrupt payloads (`decode_failed`) and packets of another length
   * (`unsupported_duration`).
   */
  decode(payload: Uint8Array): Int16Array;

  /**
   * Returns 960 samples standing in for one lost packet, continuing the last decoded audio and
   * fading out over consecutive losses; silence before any packet was decoded.
   */
  conceal(): Int16Array;

  /** Frees the codec's memory. Idempotent; any other call afterwards throws `closed`. */
  close(): void;
}

/** Encoder settings; every field is optional. */
export interface OpusCodecOptions {
  /** Target bitrate in bits per second, 6000 to 510000. Default 32000, clear wideband voice. */
  bitrate?: number;
  /** Encoder effort, 0 to 10; each step costs CPU for quality. Default 5. */
  complexity?: number;
  /**
   * Packet loss expected on the way to the peer, in percent (0 to 100). Above 0 the encoder adds
   * in-band forward error correction sized for that loss, which the peer's decoder can use.
   * Default 0.
   */
  expectedLossPercent?: number;
}

/** Options with their defaults filled in and checked. */
export type OpusCodecSettings = Required<OpusCodecOptions>;

const DEFAULTS: OpusCodecSettings = { bitrate: 32_000, complexity: 5, expectedLossPercent: 0 };

/** Inclusive bounds of each option, from the libopus API. */
const BOUNDS: Readonly<Record<keyof OpusCodecOptions, readonly [number, number]>> = {
  bitrate: [6_000, 510_000],
  complexity: [0, 10],
  expectedLossPercent: [0, 100],
};

/** Creates a codec. Throws CodecError `invalid_option` naming the first bad option. */
export function createOpusCodec(options: OpusCodecOptions = {}): OpusCodec {
  return new WasmOpusCodec(resolveOptions(options));
}

function resolveOptions(options: OpusCodecOptions): OpusCodecSettings {
  const settings = { ...DEFAULTS };
  for (const key of Object.keys(BOUNDS) as (keyof OpusCodecOptions)[]) {
    const value = options[key];
    if (value === undefined) continue;

    const [min, max] = BOUNDS[key];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new CodecError(
        'invalid_option',
        `${key} must be an integer from ${min} to ${max}, got ${String(value)}`,
      );
    }
    settings[key] = value;
  }
  return settings;
}
