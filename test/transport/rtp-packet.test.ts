import { describe, expect, it } from 'vitest';

import { classifyPacket, looksLikeRtp, rtpPayloadType } from '../../src/transport/rtp-packet.js';
import { buildRtp } from './fixtures/rtp.js';

describe('RTP and RTCP demultiplexing', () => {
  it('classifies an Opus RTP packet and reads its payload type', () => {
    const packet = buildRtp(111, 7, 960, 42, Buffer.from([1, 2, 3]));

    expect(classifyPacket(packet)).toBe('rtp');
    expect(rtpPayloadType(packet)).toBe(111);
    expect(looksLikeRtp(packet)).toBe(true);
  });

  it('reads the payload type under a set marker bit', () => {
    const packet = buildRtp(111, 7, 960, 42, Buffer.from([1]));
    packet[1] = 0x80 | 111;

    expect(classifyPacket(packet)).toBe('rtp');
    expect(rtpPayloadType(packet)).toBe(111);
  });

  it('classifies RTCP sender and receiver reports', () => {
    const report = (type: number): Buffer => Buffer.from([0x80, type, 0, 1, 0, 0, 0, 42]);

    expect(classifyPacket(report(200))).toBe('rtcp');
    expect(classifyPacket(report(201))).toBe('rtcp');
  });

  it('calls short packets and other versions malformed', () => {
    expect(classifyPacket(Buffer.from([0x80, 111, 0]))).toBe('malformed');
    expect(classifyPacket(Buffer.from([0x80, 111, 0, 1, 0, 0, 0, 0, 0]))).toBe('malformed');
    expect(classifyPacket(buildRtp(111, 1, 0, 1, Buffer.alloc(0)).fill(0x40, 0, 1))).toBe(
      'malformed',
    );
    expect(looksLikeRtp(Buffer.alloc(4))).toBe(false);
  });
});
