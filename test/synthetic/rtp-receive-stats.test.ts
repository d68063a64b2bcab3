import { describe, expect, it } from 'vitest';

import { RtpReceiveStats } from '../../src/synthetic/rtp-receive-stats.js';
import { writeRtpHeader } from '../../workers/media/rtp.js';

function packet(sequence: number): Buffer {
  const out = Buffer.alloc(20);
  writeRtpHeader(out, 111, sequence & 0xffff, 0, 1);
  return out;
}

function feed(sequences: number[]): RtpReceiveStats {
  const stats = new RtpReceiveStats();
  for (const sequence of sequences) stats.record(packet(sequence));
  return stats;
}

describe('RtpReceiveStats', () => {
  it('counts nothing lost for an unbroken run', () => {
    const stats = feed([10, 11, 12, 13]);
    expect([stats.received, stats.expected, stats.lost]).toEqual([4, 4, 0]);
  });

  it('counts the gaps as lost, across the wrap past 65535', () => {
    const stats = feed([65_533, 65_534, 0, 1, 4]);
    expect([stats.received, stats.expected, stats.lost]).toEqual([5, 8, 3]);
  });

  it('takes a late packet as late, not as a wrap, and a duplicate does not make loss negative', () => {
    const stats = feed([100, 102, 101, 101, 103]);
    expect([stats.received, stats.expected, stats.lost]).toEqual([5, 4, 0]);
  });

  it('ignores what is too short to be RTP', () => {
    const stats = new RtpReceiveStats();
    stats.record(Buffer.alloc(4));
    expect([stats.received, stats.expected, stats.lost]).toEqual([0, 0, 0]);
  });
});
