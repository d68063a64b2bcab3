import { createOpusCodec } from '../../../workers/codec/opus-codec.js';
import { FRAME_SAMPLES } from '../../../workers/codec/opus-frame.js';
import { rms, sineFrames } from './signal.js';

/** A pool task: `busy` codes without end and counts itself in `started`; `check` reports a level. */
export type CodecTask = { kind: 'busy'; started: Int32Array } | { kind: 'check' };

/** Runs one task; a `busy` task only ends when its worker is destroyed. */
export default function runCodecTask(task: CodecTask): number {
  const codec = createOpusCodec();
  const frames = sineFrames(50);

  if (task.kind === 'check') {
    const decoded = frames.map((frame) => codec.decode(codec.encode(frame)));
    codec.close();
    return rms(decoded[decoded.length - 1] ?? new Int16Array(FRAME_SAMPLES));
  }

  Atomics.add(task.started, 0, 1);
  for (let i = 0; ; i++) {
    codec.decode(codec.encode(frames[i % frames.length] ?? new Int16Array(FRAME_SAMPLES)));
    if (i % 5 === 0) codec.conceal();
  }
}
