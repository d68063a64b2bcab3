/** The one audio format the media loop speaks: 48 kHz, mono, 16-bit PCM in 20 ms frames. */

/** Samples per second of every PCM frame. */
export const SAMPLE_RATE = 48_000;

/** Samples in one 20 ms frame, the unit of every encode, decode and concealment. */
export const FRAME_SAMPLES = 960;

/** Duration of one frame in milliseconds. */
export const FRAME_MS = 20;

/**
 * The largest payload accepted for decoding. No RTP packet on a WebRTC path is larger than an
 * Ethernet MTU, and a 20 ms voice packet is normally under 200 bytes.
 */
export const MAX_PAYLOAD_BYTES = 1_500;
