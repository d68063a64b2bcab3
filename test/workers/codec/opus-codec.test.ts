import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';

import { CodecError } from '../../../workers/codec/codec-error.js';
import { createOpusCodec, type OpusCodec } from '../../../workers/codec/opus-codec.js';
import { FRAME_SAMPLES } from '../../../workers/codec/opus-frame.js';
import { bestCorrelation, join, rms, sineFrames } from './signal.js';

const opened: OpusCodec[] = [];

function codec(options?: Parameters<typeof createOpusCodec>[0]): OpusCodec {
  const created = createOpusCodec(options);
  opened.push(created);
  return created;
}

afterEach(() => {
  for (const c of opened.splice(0)) c.close();
});

/** Runs `call` and returns the CodecError it throws; fails the test on any other outcome. */
function codecError(call: () => unknown): CodecError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(CodecError);
    return error as CodecError;
  }
  throw new Error('expected a CodecError, but the call returned');
}

describe('OpusCodec', () => {
  it('carries a sine wave through encode and decode at nearly its original level', () => {
    const c = codec();
    const frames = sineFrames(100);
    const decoded = frames.map((frame) => c.decode(c.encode(frame)));

    // The first frames hold the codec's start-up delay; compare the settled part.
    const original = join(frames.slice(20));
    const output = join(decoded.slice(20));
    expect(decoded.every((pcm) => pcm.length === FRAME_SAMPLES)).toBe(true);
    expect(rms(output) / rms(original)).toBeGreaterThan(0.9);
    expect(rms(output) / rms(original)).toBeLessThan(1.1);
    expect(bestCorrelation(original, output)).toBeGreaterThan(0.98);
  });

  it('encodes a 20 ms voice frame at 32 kbps into a packet of about 80 bytes', () => {
    const c = codec();
    const sizes = sineFrames(50).map((frame) => c.encode(frame).length);
    const average = sizes.slice(10).reduce((a, b) => a + b, 0) / 40;
    expect(average).toBeGreaterThan(60);
    expect(average).toBeLessThan(100);
  });

  it('conceals a lost packet with a 960-sample frame that continues the signal', () => {
    const c = codec();
    const frames = sineFrames(30);
    for (const frame of frames) c.decode(c.encode(frame));

    const concealed = c.conceal();
    expect(concealed).toBeInstanceOf(Int16Array);
    expect(concealed.length).toBe(FRAME_SAMPLES);
    expect(rms(concealed)).toBeGreaterThan(0);
  });

  it('keeps decoding normally after concealing several lost packets', () => {
    const c = codec();
    const frames = sineFrames(60);
    const packets = frames.map((frame) => c.encode(frame));
    for (const packet of packets.slice(0, 20)) c.decode(packet);
    for (let lost = 0; lost < 3; lost++) expect(c.conceal().length).toBe(FRAME_SAMPLES);

    const after = packets.slice(23).map((packet) => c.decode(packet));
    expect(rms(join(after.slice(10))) / rms(join(frames.slice(33)))).toBeGreaterThan(0.9);
  });

  it('conceals with silence before any packet was decoded', () => {
    const concealed = codec().conceal();
    expect(concealed.length).toBe(FRAME_SAMPLES);
    expect(rms(concealed)).toBe(0);
  });

  it.each([0, 1, 480, 959, 961, 1920])('refuses a %i-sample frame, naming its size', (size) => {
    const error = codecError(() => codec().encode(new Int16Array(size)));
    expect(error.code).toBe('invalid_frame');
    expect(error.message).toContain(`${size} samples`);
  });

  it('refuses PCM that is not 16-bit, naming its type', () => {
    const error = codecError(() => codec().encode(new Float32Array(960) as unknown as Int16Array));
    expect(error.code).toBe('invalid_frame');
    expect(error.message).toContain('Float32Array');
  });

  it.each([
    ['an empty payload', new Uint8Array(0)],
    ['a payload larger than any RTP packet', new Uint8Array(5000)],
    ['a frame-count packet with no count byte', Uint8Array.of(0xfb)],
    ['a packet claiming 63 frames', Uint8Array.of(0xfb, 0x3f, 0x00)],
    ['a packet claiming more than 120 ms', Uint8Array.of(0xff, 0xff, 0xff)],
    ['two equal frames in an odd number of bytes', Uint8Array.of(0xf1, 0x00, 0x00, 0x00)],
    ['a frame longer than its packet', Uint8Array.of(0xf2, 0xff, 0x01)],
  ])('refuses %s as decode_failed', (_name, payload) => {
    const c = codec();
    expect(codecError(() => c.decode(payload)).code).toBe('decode_failed');
    expect(c.decode(c.encode(new Int16Array(FRAME_SAMPLES))).length).toBe(FRAME_SAMPLES);
  });

  it('refuses a payload that is not a byte array', () => {
    const error = codecError(() => codec().decode('opus' as unknown as Uint8Array));
    expect(error.code).toBe('decode_failed');
    expect(error.message).toContain('string');
  });

  it.each([
    ['2.5 ms', 0xe0],
    ['10 ms', 0xf0],
    ['40 ms', 0x10],
    ['60 ms', 0x18],
  ])('refuses a valid packet of %s as unsupported_duration', (duration, toc) => {
    const error = codecError(() => codec().decode(Uint8Array.of(toc, 0x00, 0x00)));
    expect(error.code).toBe('unsupported_duration');
    expect(error.message).toContain(duration);
  });

  it('decodes any byte string to one frame or refuses it with a CodecError', () => {
    const c = codec();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 1600 }), (payload) => {
        try {
          expect(c.decode(payload).length).toBe(FRAME_SAMPLES);
        } catch (error) {
          expect(error).toBeInstanceOf(CodecError);
        }
      }),
      { numRuns: 2000 },
    );
    expect(c.decode(c.encode(new Int16Array(FRAME_SAMPLES))).length).toBe(FRAME_SAMPLES);
  });

  it('refuses every call after close with code closed', () => {
    const c = createOpusCodec();
    c.close();
    c.close();
    expect(codecError(() => c.encode(new Int16Array(FRAME_SAMPLES))).code).toBe('closed');
    expect(codecError(() => c.decode(Uint8Array.of(0xf8))).code).toBe('closed');
    expect(codecError(() => c.conceal()).code).toBe('closed');
  });

  it.each([
    [{ bitrate: 5_999 }, 'bitrate', '5999'],
    [{ bitrate: 32_000.5 }, 'bitrate', '32000.5'],
    [{ complexity: 11 }, 'complexity', '11'],
    [{ expectedLossPercent: -1 }, 'expectedLossPercent', '-1'],
  ])('refuses option %o, naming the field and value', (options, field, value) => {
    const error = codecError(() => createOpusCodec(options));
    expect(error.code).toBe('invalid_option');
    expect(error.message).toContain(field);
    expect(error.message).toContain(value);
  });

  it('adds redundancy to its packets when told to expect loss', () => {
    const frames = sineFrames(60);
    const plain = codec();
    const protectedCodec = codec({ expectedLossPercent: 20 });
    const bytes = (c: OpusCodec): number =>
      frames.slice(10).reduce((total, frame) => total + c.encode(frame).length, 0);
    for (const frame of frames.slice(0, 10)) {
      plain.encode(frame);
      protectedCodec.encode(frame);
    }
    expect(bytes(protectedCodec)).toBeGreaterThan(bytes(plain));
  });
});
