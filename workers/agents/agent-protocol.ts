import { endianness } from 'node:os';

import { Packr } from 'msgpackr';

import { FRAME_SAMPLES, SAMPLE_RATE, type AgentContext } from './agent.js';

/** The first byte of a message that carries one frame of audio. */
export const AUDIO_KIND = 0x01;
/** The first byte of a message that carries one msgpack control map. */
export const CONTROL_KIND = 0x02;

/** Bytes of one frame of 16-bit PCM. */
export const FRAME_BYTES = FRAME_SAMPLES * 2;
/** Bytes of one whole audio message: the kind byte, then one frame. */
export const AUDIO_MESSAGE_BYTES = 1 + FRAME_BYTES;
/** The largest message either side may send, in bytes (kind byte included). */
export const MAX_MESSAGE_BYTES = 64 * 1024;

/** The only sample encoding of the protocol, as named in `start`. */
export const ENCODING = 'pcm_s16le';
/** The longest `model` a usage report may carry, in characters. */
export const MAX_MODEL_LENGTH = 200;
/** The longest `reason` a hangup may carry, in characters. */
export const MAX_REASON_LENGTH = 100;
/** The hangup reason recorded when the agent gives none. */
export const DEFAULT_HANGUP_REASON = 'agent_hangup';

// Int16Array uses the host's byte order; the wire is little-endian whatever the host.
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

// Plain msgpack maps only: msgpackr's record extension would make the bytes unreadable to
// agents written with any other msgpack library.
const packr = new Packr({ useRecords: false });

/** The first control message of every call, bridge to agent. */
export interface StartMessage {
  type: 'start';
  call_id: string;
  room_id: string;
  user_id: string;
  sample_rate: typeof SAMPLE_RATE;
  frame_samples: typeof FRAME_SAMPLES;
  encoding: typeof ENCODING;
}

/** The last control message of a call the bridge ended, bridge to agent. */
export interface EndedMessage {
  type: 'ended';
  reason: string;
}

/** The `start` message for a call. */
export function startMessage(context: AgentContext): StartMessage {
  return {
    type: 'start',
    call_id: context.callId,
    room_id: context.roomId,
    user_id: context.userId,
    sample_rate: SAMPLE_RATE,
    frame_samples: FRAME_SAMPLES,
    encoding: ENCODING,
  };
}

/** A control message as sent on the wire: the control kind byte, then the msgpack map. */
export function encodeControl(message: StartMessage | EndedMessage): Buffer {
  const body = packr.pack(message);
  const out = Buffer.allocUnsafe(1 + body.length);
  out[0] = CONTROL_KIND;
  body.copy(out, 1);
  return out;
}

/**
 * An audio message as sent on the wire: the audio kind byte, then `frame` as little-endian
 * 16-bit PCM. The frame is copied, so the caller may reuse it at once.
 */
export function encodeAudio(frame: Int16Array): Buffer {
  const out = Buffer.allocUnsafe(AUDIO_MESSAGE_BYTES);
  out[0] = AUDIO_KIND;
  if (LITTLE_ENDIAN_HOST) {
    Buffer.from(frame.buffer, frame.byteOffset, FRAME_BYTES).copy(out, 1);
  } else {
    for (let i = 0; i < FRAME_SAMPLES; i += 1) out.writeInt16LE(frame[i] ?? 0, 1 + i * 2);
  }
  return out;
}

/**
 * Copies the frame of an audio message (already checked to be AUDIO_MESSAGE_BYTES long) into
 * `into`, a frame of FRAME_SAMPLES samples.
 */
export function decodeAudio(message: Uint8Array, into: Int16Array): void {
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(into.buffer, into.byteOffset, FRAME_BYTES).set(
      message.subarray(1, AUDIO_MESSAGE_BYTES),
    );
    return;
  }
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  for (let i = 0; i < FRAME_SAMPLES; i += 1) into[i] = view.getInt16(1 + i * 2, true);
}
