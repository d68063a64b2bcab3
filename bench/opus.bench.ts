import { pathToFileURL } from 'node:url';

import { createOpusCodec, type OpusCodec } from '../workers/codec/opus-codec.js';
import { FRAME_SAMPLES, SAMPLE_RATE } from '../workers/codec/opus-frame.js';
import { printTable } from './table.js';

/** Ten seconds of audio: enough distinct frames that no branch predictor learns the input. */
const FRAMES = 500;
const ROUNDS = 9;

/**
 * A voice-like test signal: a 220 Hz fundamental with a 1330 Hz formant-ish partial, a 3 Hz
 * syllable envelope and a little noise, so the encoder works as it does on speech rather than on
 * a pure tone (which it codes about a fifth faster).
 */
function voiceLikeFrames(count: number): Int16Array[] {
  const frames: Int16Array[] = [];
  let seed = 1;
  let n = 0;
  for (let f = 0; f < count; f++) {
    const frame = new Int16Array(FRAME_SAMPLES);
    for (let i = 0; i < FRAME_SAMPLES; i++, n++) {
      seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
      const t = n / SAMPLE_RATE;
      const envelope = 0.6 + 0.4 * Math.sin(2 * Math.PI * 3 * t);
      const tone = 0.5 * Math.sin(2 * Math.PI * 220 * t) + 0.3 * Math.sin(2 * Math.PI * 1330 * t);
      const noise = 0.02 * (seed / 0x7fffffff - 0.5);
      frame[i] = Math.round((envelope * tone + noise) * 12_000);
    }
    frames.push(frame);
  }
  return frames;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] ?? Number.NaN;
}

/** Microseconds per call of `step` over `count` calls. */
function timePerCall(count: number, step: (i: number) => void): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) step(i);
  return Number(process.hrtime.bigint() - start) / 1_000 / count;
}

/** Microseconds per concealment, each one right after a real packet as on a lossy link. */
function timeConcealment(codec: OpusCodec, packets: readonly Uint8Array[]): number {
  let total = 0n;
  for (const packet of packets) {
    codec.decode(packet);
    const start = process.hrtime.bigint();
    codec.conceal();
    total += process.hrtime.bigint() - start;
  }
  return Number(total) / 1_000 / packets.length;
}

/**
 * Measures the call codec at its defaults (complexity 5, 32 kbps, voip, 20 ms mono at 48 kHz):
 * microseconds per encode, decode and concealment (medians over rounds of 500 frames), and the
 * mean packet size in bytes.
 */
export async function run(): Promise<Record<string, number>> {
  const frames = voiceLikeFrames(FRAMES);
  const encoder = createOpusCodec();
  const decoder = createOpusCodec();
  const packets = frames.map((frame) => encoder.encode(frame));

  // One unmeasured pass lets the WebAssembly code tier up before anything is timed.
  timePerCall(FRAMES, (i) => encoder.encode(frames[i] as Int16Array));
  timePerCall(FRAMES, (i) => decoder.decode(packets[i] as Uint8Array));

  const encode: number[] = [];
  const decode: number[] = [];
  const conceal: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    encode.push(timePerCall(FRAMES, (i) => encoder.encode(frames[i] as Int16Array)));
    decode.push(timePerCall(FRAMES, (i) => decoder.decode(packets[i] as Uint8Array)));
    conceal.push(timeConcealment(decoder, packets));
    await new Promise((resolve) => setImmediate(resolve));
  }

  encoder.close();
  decoder.close();
  const bytes = packets.reduce((total, packet) => total + packet.length, 0);
  return {
    encode_us: round1(median(encode)),
    decode_us: round1(median(decode)),
    conceal_us: round1(median(conceal)),
    packet_bytes: round1(bytes / packets.length),
  };
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  printTable('opus', await run());
}
