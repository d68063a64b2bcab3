import { Worker } from 'node:worker_threads';

import { beforeAll, describe, expect, it } from 'vitest';

import { FRAME_SAMPLES, PacketRing, PcmRing } from '../../src/engine/audio-core.js';
import { loadCore, type CoreFixture } from './audio-core-fixture.js';

let fx: CoreFixture;

beforeAll(async () => {
  fx = await loadCore();
});

const PACKETS = 100_000;
const FRAMES = 20_000;

/** How long either side waits on the other with no progress before giving up. */
const STALL_MS = 60_000;

// The worker runs plain JS (no TypeScript loader there), straight on the wasm exports: it
// pops every packet and checks every byte, while producing PCM frames the other way.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { memory, module, packetRing, pcmRing, packets, frames } = workerData;
const x = new WebAssembly.Instance(module, { env: { memory } }).exports;
const bytes = new Uint8Array(memory.buffer);
const samples = new Int16Array(memory.buffer);
const staging = x.packetRingConsumerStaging(packetRing);
const lengthOf = (i) => 1 + ((i * 7919) % 1500);
const byteOf = (i, j) => (i * 31 + j * 7 + (j >> 8)) & 0xff;
const sampleOf = (f, j) => ((f * 7 + j * 13) % 65536) - 32768;
let received = 0, badLengths = 0, badBytes = 0, totalBytes = 0, sent = 0;
let idle = 0, stalledSince = 0;
while (received < packets || sent < frames) {
  let progressed = false;
  if (received < packets) {
    const n = x.packetRingPop(packetRing, staging, 65535);
    if (n >= 0) {
      if (n !== lengthOf(received)) badLengths++;
      for (let j = 0; j < n; j++) if (bytes[staging + j] !== byteOf(received, j)) badBytes++;
      totalBytes += n;
      received++;
      progressed = true;
    }
  }
  if (sent < frames && x.pcmRingLength(pcmRing) < x.pcmRingFrames(pcmRing)) {
    const at = x.pcmRingSlotAddress(pcmRing, x.pcmRingWriteSlot(pcmRing)) >> 1;
    for (let j = 0; j < ${FRAME_SAMPLES}; j++) samples[at + j] = sampleOf(sent, j);
    x.pcmRingCommit(pcmRing);
    sent++;
    progressed = true;
  }
  if (progressed) idle = 0;
  else if (idle++ === 0) stalledSince = Date.now();
  else if (idle % 1e6 === 0 && Date.now() - stalledSince > ${STALL_MS}) break;
}
parentPort.postMessage({ received, badLengths, badBytes, totalBytes, sent });
`;

interface WorkerReport {
  received: number;
  badLengths: number;
  badBytes: number;
  totalBytes: number;
  sent: number;
}

const lengthOf = (i: number): number => 1 + ((i * 7919) % 1500);
const byteOf = (i: number, j: number): number => (i * 31 + j * 7 + (j >> 8)) & 0xff;
const sampleOf = (f: number, j: number): number => ((f * 7 + j * 13) % 65_536) - 32_768;

describe('rings shared with a worker thread', () => {
  it(
    'carries every packet and frame intact and in order between two threads',
    async () => {
      const packetRing = PacketRing.create(fx.core, fx.allocator, { capacity: 16_384 });
      const pcmRing = PcmRing.create(fx.core, fx.allocator, { frames: 8 });
      const worker = new Worker(WORKER, {
        eval: true,
        workerData: {
          memory: fx.memory,
          module: fx.core.module,
          packetRing: packetRing.ptr,
          pcmRing: pcmRing.ptr,
          packets: PACKETS,
          frames: FRAMES,
        },
      });
      const report = new Promise<WorkerReport>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });

      // This thread produces packets and consumes frames, both as fast as the rings allow.
      const packet = new Uint8Array(1500);
      const frame = new Int16Array(FRAME_SAMPLES);
      let pushed = 0;
      let refused = 0;
      let framesIn = 0;
      let badSamples = 0;
      let idle = 0;
      let stalledSince = 0;
      while (pushed < PACKETS || framesIn < FRAMES) {
        let progressed = false;
        if (pushed < PACKETS) {
          const length = lengthOf(pushed);
          for (let j = 0; j < length; j++) packet[j] = byteOf(pushed, j);
          if (packetRing.push(packet.subarray(0, length))) {
            pushed++;
            progressed = true;
          } else {
            refused++;
          }
        }
        if (framesIn < FRAMES && pcmRing.pop(frame)) {
          for (let j = 0; j < FRAME_SAMPLES; j++)
            if (frame[j] !== sampleOf(framesIn, j)) badSamples++;
          framesIn++;
          progressed = true;
        }
        if (progressed) idle = 0;
        else if (idle++ === 0) stalledSince = Date.now();
        else if (idle % 1e6 === 0 && Date.now() - stalledSince > STALL_MS) break;
      }

      const result = await report;
      await worker.terminate();

      expect(result).toEqual({
        received: PACKETS,
        badLengths: 0,
        badBytes: 0,
        totalBytes: Array.from({ length: PACKETS }, (_, i) => lengthOf(i)).reduce((a, b) => a + b),
        sent: FRAMES,
      });
      expect({ framesIn, badSamples }).toEqual({ framesIn: FRAMES, badSamples: 0 });
      expect(packetRing.stats()).toMatchObject({
        pushed: PACKETS,
        popped: PACKETS,
        dropped: refused,
        usedBytes: 0,
      });
      expect(pcmRing.stats()).toMatchObject({ pushed: FRAMES, popped: FRAMES, length: 0 });
    },
    4 * STALL_MS,
  );
});
