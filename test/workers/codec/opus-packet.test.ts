import { describe, expect, it } from 'vitest';

import { concealmentToc, packetSamples } from '../../../workers/codec/opus-packet.js';

describe('packetSamples', () => {
  it.each([
    ['SILK wideband 20 ms, one frame', [0x48], 960],
    ['SILK narrowband 60 ms, one frame', [0x18], 2880],
    ['hybrid full band 10 ms, two equal frames', [0x71, 0, 0], 960],
    ['CELT full band 20 ms, one frame', [0xf8, 0], 960],
    ['CELT full band 10 ms, two frames of different sizes', [0xf2, 1, 0, 0], 960],
    ['CELT narrowband 2.5 ms, eight frames', [0x83, 0x08], 960],
    ['CELT full band 20 ms, six frames', [0xfb, 0x06], 5760],
  ])('reads %s', (_name, bytes, samples) => {
    expect(packetSamples(Uint8Array.from(bytes))).toBe(samples);
  });

  it.each([
    ['an empty payload', []],
    ['a frame-count packet without its count byte', [0xfb]],
    ['a frame count of zero', [0xfb, 0x00]],
    ['more than 120 ms', [0xfb, 0x07]],
  ])('has no answer for %s', (_name, bytes) => {
    expect(packetSamples(Uint8Array.from(bytes))).toBeUndefined();
  });
});

describe('concealmentToc', () => {
  it.each([
    ['SILK narrowband 60 ms', 0x18, 0x08],
    ['SILK wideband 10 ms stereo', 0x44, 0x4c],
    ['hybrid super-wideband 10 ms', 0x60, 0x68],
    ['CELT full band 2.5 ms with two frames', 0xe1, 0xf8],
    ['CELT wideband 20 ms stereo', 0xbc, 0xbc],
  ])('keeps the mode and bandwidth of %s and asks for one 20 ms frame', (_name, last, toc) => {
    expect(concealmentToc(last)).toBe(toc);
    expect(packetSamples(Uint8Array.of(concealmentToc(last)))).toBe(960);
  });

  it('asks for 20 ms of full band when no packet was seen yet', () => {
    expect(concealmentToc(undefined)).toBe(0xf8);
  });
});
