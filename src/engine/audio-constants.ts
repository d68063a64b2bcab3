// Values shared with the AssemblyScript side (which exports the same constants as globals;
// a test keeps the two in step).

/** Samples in one PCM frame: 20 ms at 48 kHz, mono, 16-bit. */
export const FRAME_SAMPLES = 960;

/** `PacketRing.pop` result: the ring holds no packet. */
export const RING_EMPTY = -1;

/** `JitterBuffer.pop` result: the next packet is missing; the caller conceals one frame. */
export const JITTER_GAP = -1;

/** `JitterBuffer.pop` result: nothing to play yet (not started, filling, or ran dry). */
export const JITTER_EMPTY = -2;

/** What `JitterBuffer.insert` did with a packet. */
export const JitterInsert = {
  /** Stored, waiting for its turn. */
  stored: 0,
  /** A copy of a packet already held or played. */
  duplicate: 1,
  /** Its turn has passed. */
  late: 2,
  /** Too long for a slot, or not an RTP packet. */
  invalid: 3,
  /** A far sequence jump, dropped unless the next packet continues from it. */
  jump: 4,
} as const;

/** A `JitterInsert` value. */
export type JitterInsertResult = (typeof JitterInsert)[keyof typeof JitterInsert];

/** The level reported for digital silence, in dBFS; quieter frames are clamped to it. */
export const SILENCE_DBFS = -127;
