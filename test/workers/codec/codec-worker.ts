import { parentPort, workerData } from 'node:worker_threads';

import { createOpusCodec } from '../../../workers/codec/opus-codec.js';
import { FRAME_SAMPLES } from '../../../workers/codec/opus-frame.js';
import { bestCorrelation, join, rms, sineFrames } from './signal.js';

/** What the test asks of this worker: code without end until terminated, or check and report. */
export type CodecWorkerMode = 'busy' | 'check';

/** A checking worker's one message. */
export interface CodecWorkerReport {
  inputRms: number;
  outputRms: number;
  correlation: number;
  concealSamples: number;
}

const mode = workerData as CodecWorkerMode;
const codec = createOpusCodec();
const frames = sineFrames(50);

if (mode === 'check') {
  const decoded = frames.map((frame) => codec.decode(codec.encode(frame)));
  const report: CodecWorkerReport = {
    inputRms: rms(join(frames.slice(10))),
    outputRms: rms(join(decoded.slice(10))),
    correlation: bestCorrelation(join(frames.slice(10)), join(decoded.slice(10))),
    concealSamples: codec.conceal().length,
  };
  parentPort?.postMessage(report);
  codec.close();
} else {
  parentPort?.postMessage('busy');
  // From here on the thread is always inside a codec call or between two, so a terminate()
  // lands in the middle of use.
  for (let i = 0; ; i++) {
    const payload = codec.encode(frames[i % frames.length] ?? new Int16Array(FRAME_SAMPLES));
    codec.decode(payload);
    if (i % 5 === 0) codec.conceal();
  }
}
