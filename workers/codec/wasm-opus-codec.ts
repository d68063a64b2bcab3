import { Decoder, Encoder } from '@evan/opus/wasm/index.mjs';

import { CodecError } from './codec-error.js';
import type { OpusCodec, OpusCodecSettings } from './opus-codec.js';
import { FRAME_MS, FRAME_SAMPLES, MAX_PAYLOAD_BYTES, SAMPLE_RATE } from './opus-frame.js';
import { concealmentToc, packetSamples } from './opus-packet.js';

/** `opus_encoder_ctl` requests used here, from opus_defines.h. */
const OPUS_SET_BITRATE = 4002;
const OPUS_SET_COMPLEXITY = 4010;
const OPUS_SET_INBAND_FEC = 4012;
const OPUS_SET_PACKET_LOSS_PERC = 4014;

/**
 * OpusCodec on libopus compiled to WebAssembly (the `@evan/opus` package, loaded through its
 * WebAssembly entry only). Chosen over native bindings because a worker thread terminated in the
 * middle of a native codec call can abort the whole process, while a WebAssembly call is stopped
 * like any JavaScript; the price is about a third more CPU per encoded frame.
 *
 * Limitation: the package's decode always passes `decode_fec = 0`, so a lost packet cannot be
 * rebuilt from the in-band FEC of the packet after it; it is concealed instead.
 * Limitation: a thread's WebAssembly heap (about 80 KiB per codec) never shrinks. Closed codecs'
 * memory is reused by new ones, but a worker's RSS stays at its peak number of open codecs.
 */
export class WasmOpusCodec implements OpusCodec {
  /** The libopus encoder, in this thread's WebAssembly heap. */
  readonly #encoder: Encoder;

  /** The libopus decoder, in this thread's WebAssembly heap. */
  readonly #decoder: Decoder;

  /** TOC byte of the last packet decoded, so concealment continues in the stream's mode. */
  #lastToc: number | undefined;

  /** Set by close(); the heap memory is gone after that. */
  #closed = false;

  constructor(settings: OpusCodecSettings) {
    this.#encoder = new Encoder({ channels: 1, sample_rate: SAMPLE_RATE, application: 'voip' });
    try {
      this.#encoder.ctl(OPUS_SET_BITRATE, settings.bitrate);
      this.#encoder.ctl(OPUS_SET_COMPLEXITY, settings.complexity);
      this.#encoder.ctl(OPUS_SET_INBAND_FEC, settings.expectedLossPercent > 0 ? 1 : 0);
      this.#encoder.ctl(OPUS_SET_PACKET_LOSS_PERC, settings.expectedLossPercent);
      this.#decoder = new Decoder({ channels: 1, sample_rate: SAMPLE_RATE });
    } catch (error) {
      this.#encoder.drop();
      throw new CodecError('invalid_option', `libopus refused the settings: ${message(error)}`, {
        cause: error,
      });
    }
  }

  /** Encodes one frame of exactly 960 samples into one Opus packet. */
  encode(pcm: Int16Array): Uint8Array {
    this.#assertOpen();
    if (!(pcm instanceof Int16Array)) {
      throw new CodecError('invalid_frame', `pcm must be an Int16Array, got ${describe(pcm)}`);
    }
    if (pcm.length !== FRAME_SAMPLES) {
      throw new CodecError(
        'invalid_frame',
        `pcm has ${pcm.length} samples, expected ${FRAME_SAMPLES} (${FRAME_MS} ms at 48 kHz mono)`,
      );
    }

    try {
      return this.#encoder.encode(pcm);
    } catch (error) {
      throw new CodecError('encode_failed', `libopus could not encode: ${message(error)}`, {
        cause: error,
      });
    }
  }

  /** Decodes one 20 ms Opus payload into 960 samples. */
  decode(payload: Uint8Array): Int16Array {
    this.#assertOpen();
    if (!(payload instanceof Uint8Array)) {
      throw new CodecError(
        'decode_failed',
        `payload must be a Uint8Array, got ${describe(payload)}`,
      );
    }
    if (payload.length === 0 || payload.length > MAX_PAYLOAD_BYTES) {
      throw new CodecError(
        'decode_failed',
        `payload has ${payload.length} bytes, expected 1 to ${MAX_PAYLOAD_BYTES}`,
      );
    }

    // Checking the duration before decoding keeps a 120 ms packet from costing six frames of work.
    const samples = packetSamples(payload);
    if (samples === undefined) {
      throw new CodecError('decode_failed', `payload has invalid framing (TOC 0x${hex(payload)})`);
    }
    if (samples !== FRAME_SAMPLES) {
      throw new CodecError(
        'unsupported_duration',
        `payload holds ${(samples * 1000) / SAMPLE_RATE} ms of audio, expected ${FRAME_MS} ms`,
      );
    }

    const pcm = this.#decodePacket(payload);
    this.#lastToc = payload[0];
    return pcm;
  }

  /** Returns 960 samples standing in for one lost packet. */
  conceal(): Int16Array {
    this.#assertOpen();
    return this.#decodePacket(Uint8Array.of(concealmentToc(this.#lastToc)));
  }

  /** Frees the encoder and decoder. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#encoder.drop();
    this.#decoder.drop();
  }

  #decodePacket(packet: Uint8Array): Int16Array {
    let bytes: Uint8Array;
    try {
      bytes = this.#decoder.decode(packet);
    } catch (error) {
      throw new CodecError('decode_failed', `libopus refused the payload: ${message(error)}`, {
        cause: error,
      });
    }
    if (bytes.byteLength !== FRAME_SAMPLES * 2) {
      throw new CodecError(
        'decode_failed',
        `payload decoded to ${bytes.byteLength / 2} samples, expected ${FRAME_SAMPLES}`,
      );
    }

    // The bytes are a fresh copy out of the heap, so viewing them costs nothing and aliases nothing.
    // Limitation: the view reads libopus's little-endian samples in host byte order, so a
    // big-endian host (s390x) would need a byte swap here.
    return bytes.byteOffset % 2 === 0
      ? new Int16Array(bytes.buffer, bytes.byteOffset, FRAME_SAMPLES)
      : new Int16Array(bytes.slice().buffer);
  }

  #assertOpen(): void {
    if (this.#closed) throw new CodecError('closed', 'the codec was closed');
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}

function hex(payload: Uint8Array): string {
  return (payload[0] ?? 0).toString(16).padStart(2, '0');
}
