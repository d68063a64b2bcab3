import { FRAME_SAMPLES, SAMPLE_RATE } from '../../../workers/codec/opus-frame.js';

/** Consecutive 960-sample frames of one continuous sine wave. */
export function sineFrames(count: number, hz = 440, amplitude = 10_000): Int16Array[] {
  const frames: Int16Array[] = [];
  let n = 0;
  for (let f = 0; f < count; f++) {
    const frame = new Int16Array(FRAME_SAMPLES);
    for (let i = 0; i < FRAME_SAMPLES; i++, n++) {
      frame[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * n) / SAMPLE_RATE));
    }
    frames.push(frame);
  }
  return frames;
}

/** Joins frames into one signal. */
export function join(frames: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(frames.reduce((total, f) => total + f.length, 0));
  let offset = 0;
  for (const frame of frames) {
    out.set(frame, offset);
    offset += frame.length;
  }
  return out;
}

/** Root mean square level of a signal. */
export function rms(signal: Int16Array): number {
  let sum = 0;
  for (const v of signal) sum += v * v;
  return Math.sqrt(sum / Math.max(1, signal.length));
}

/**
 * The highest normalised correlation between `original` and `decoded` delayed by 0 to `maxLag`
 * samples: the codec adds a fixed delay, so the output is compared where it lines up.
 */
export function bestCorrelation(original: Int16Array, decoded: Int16Array, maxLag = 960): number {
  const length = Math.min(original.length, decoded.length) - maxLag;
  let best = -1;
  for (let lag = 0; lag <= maxLag; lag++) {
    let xy = 0;
    let xx = 0;
    let yy = 0;
    for (let i = 0; i < length; i++) {
      const x = original[i] ?? 0;
      const y = decoded[i + lag] ?? 0;
      xy += x * y;
      xx += x * x;
      yy += y * y;
    }
    best = Math.max(best, xy / Math.sqrt(xx * yy || 1));
  }
  return best;
}
