import { describe, expect, it } from 'vitest';

import { SineSource } from '../../src/synthetic/sine-source.js';
import { createOpusCodec } from '../../workers/codec/opus-codec.js';
import { rtpPayloadOffset, rtpPayloadType } from '../../workers/media/rtp.js';
import { rms } from '../engine/media-fixtures.js';

describe('SineSource', () => {
  it('makes RTP of Opus frames that decode to a steady tone, in sequence past the wrap', () => {
    const source = new SineSource({ payloadType: 109, ssrc: 7, firstSequence: 65_534 });
    const packets = Array.from({ length: 120 }, () => source.next());
    expect(source.sent).toBe(120);
    expect(packets.map((p) => p.readUInt16BE(2)).slice(0, 4)).toEqual([65_534, 65_535, 0, 1]);
    expect(packets.map((p) => p.readUInt32BE(4)).slice(0, 3)).toEqual([0, 960, 1920]);
    expect(packets.every((p) => rtpPayloadType(p) === 109 && p.readUInt32BE(8) === 7)).toBe(true);

    // Past the loop point (50 frames) too, the decoded level stays that of the sine.
    const codec = createOpusCodec();
    const levels = packets.map((p) => rms(codec.decode(p.subarray(rtpPayloadOffset(p)))));
    codec.close();
    for (const level of levels.slice(5)) expect(level).toBeGreaterThan(0.15);
  });

  it('refuses bad options by name', () => {
    expect(() => new SineSource({ payloadType: 128 })).toThrow(
      'payloadType must be an integer from 0 to 127, got 128',
    );
    expect(() => new SineSource({ amplitude: 0 })).toThrow(
      'amplitude must be above 0 and at most 1, got 0',
    );
  });
});
