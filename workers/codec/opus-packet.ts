/**
 * Reading the table-of-contents (TOC) byte that starts every Opus packet (RFC 6716, section 3.1):
 * five bits of configuration (mode, bandwidth, frame duration), one stereo bit and two bits saying
 * how many frames follow.
 */

/** Samples per frame at 48 kHz for each of the 32 configurations, in the RFC's table order. */
const FRAME_SAMPLES_BY_CONFIG: readonly number[] = [
  // SILK-only, narrow, medium and wide band: 10, 20, 40, 60 ms
  480, 960, 1920, 2880, 480, 960, 1920, 2880, 480, 960, 1920, 2880,
  // Hybrid, super-wide and full band: 10, 20 ms
  480, 960, 480, 960,
  // CELT-only, narrow, wide, super-wide and full band: 2.5, 5, 10, 20 ms
  120, 240, 480, 960, 120, 240, 480, 960, 120, 240, 480, 960, 120, 240, 480, 960,
];

/** The longest audio one packet may carry: 120 ms at 48 kHz. */
const MAX_PACKET_SAMPLES = 5760;

/**
 * How many 48 kHz samples per channel a packet decodes to, read from its TOC (and frame-count byte
 * when it has one). Undefined when the framing is impossible; libopus still checks the rest.
 */
export function packetSamples(payload: Uint8Array): number | undefined {
  const toc = payload[0];
  if (toc === undefined) return undefined;

  const perFrame = FRAME_SAMPLES_BY_CONFIG[toc >> 3] ?? 0;
  let frames: number;
  switch (toc & 0x03) {
    case 0:
      frames = 1;
      break;
    case 1:
    case 2:
      frames = 2;
      break;
    default: {
      const countByte = payload[1];
      if (countByte === undefined) return undefined;
      frames = countByte & 0x3f;
    }
  }

  const samples = frames * perFrame;
  return samples > 0 && samples <= MAX_PACKET_SAMPLES ? samples : undefined;
}

/**
 * A TOC byte for one 20 ms frame in the same mode, bandwidth and channel count as `lastToc`.
 * Sent alone as a packet, it makes libopus run its loss concealment for exactly 20 ms (a packet
 * with no frame data is how Opus signals a gap), in the mode the stream was last in.
 * With no packet seen yet, any 20 ms configuration does: the decoder then returns silence.
 */
export function concealmentToc(lastToc: number | undefined): number {
  if (lastToc === undefined) return 31 << 3;

  const config = lastToc >> 3;
  let config20ms: number;
  if (config < 12) config20ms = (config & ~0x03) | 0x01;
  else if (config < 16) config20ms = (config & ~0x01) | 0x01;
  else config20ms = config | 0x03;
  return (config20ms << 3) | (lastToc & 0x04);
}
