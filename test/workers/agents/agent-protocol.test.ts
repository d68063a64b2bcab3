import { unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';

import { FRAME_SAMPLES } from '../../../workers/agents/agent.js';
import {
  decodeAudio,
  encodeAudio,
  encodeControl,
  startMessage,
} from '../../../workers/agents/agent-protocol.js';

describe('agent protocol encoding', () => {
  it('writes audio as the kind byte 0x01 then 960 little-endian 16-bit samples', () => {
    const frame = new Int16Array(FRAME_SAMPLES);
    frame[0] = 0x1234;
    frame[1] = -2;
    frame[959] = -32_768;

    const message = encodeAudio(frame);

    expect(message.length).toBe(1921);
    expect([...message.subarray(0, 5)]).toEqual([0x01, 0x34, 0x12, 0xfe, 0xff]);
    expect([...message.subarray(1919)]).toEqual([0x00, 0x80]);
  });

  it('copies the frame, so the caller may reuse its buffer at once', () => {
    const frame = new Int16Array(FRAME_SAMPLES).fill(7);

    const message = encodeAudio(frame);
    frame.fill(0);

    expect(message.readInt16LE(1)).toBe(7);
  });

  it('reads back the frame it wrote, from any byte offset', () => {
    const frame = Int16Array.from({ length: FRAME_SAMPLES }, (_, i) => i * 67 - 32_000);
    // An odd offset, as a message inside a larger buffer can have.
    const backing = Buffer.alloc(1 + 1921);
    encodeAudio(frame).copy(backing, 1);
    const into = new Int16Array(FRAME_SAMPLES);

    decodeAudio(backing.subarray(1), into);

    expect(into).toEqual(frame);
  });

  it('writes control messages as the kind byte 0x02 then one plain msgpack map', () => {
    const message = encodeControl({ type: 'ended', reason: 'user_hangup' });

    expect(message[0]).toBe(0x02);
    // A map header (fixmap, map16 or map32): no msgpackr record extension.
    const header = message[1] ?? 0;
    expect((header & 0xf0) === 0x80 || header === 0xde || header === 0xdf).toBe(true);
    expect(unpack(message.subarray(1))).toEqual({ type: 'ended', reason: 'user_hangup' });
  });

  it('builds start from the call context with the fixed audio format', () => {
    expect(startMessage({ callId: 'c', roomId: '!r:h', userId: '@u:h' })).toEqual({
      type: 'start',
      call_id: 'c',
      room_id: '!r:h',
      user_id: '@u:h',
      sample_rate: 48_000,
      frame_samples: 960,
      encoding: 'pcm_s16le',
    });
  });
});
