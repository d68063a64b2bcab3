import type { WasmGlobal } from './audio-wasm.js';

// Every pointer and size is a byte offset or count in the shared memory; `bool` results come
// back as 0 or 1. The comments on the AssemblyScript side say which thread may call what.

/** The functions and constants build/audio-core.wasm exports. */
export interface AudioCoreExports {
  heapBase(): number;

  packetRingBytes(capacity: number, maxRecord: number): number;
  packetRingInit(ring: number, capacity: number, maxRecord: number, start: number): void;
  packetRingProducerStaging(ring: number): number;
  packetRingConsumerStaging(ring: number): number;
  packetRingPush(ring: number, src: number, length: number): number;
  packetRingPeekLength(ring: number): number;
  packetRingPop(ring: number, dst: number, room: number): number;
  packetRingSkip(ring: number): number;
  packetRingUsedBytes(ring: number): number;
  packetRingCapacity(ring: number): number;
  packetRingMaxRecord(ring: number): number;
  packetRingPushed(ring: number): number;
  packetRingPopped(ring: number): number;
  packetRingDropped(ring: number): number;
  packetRingOversize(ring: number): number;

  pcmRingBytes(frames: number): number;
  pcmRingInit(ring: number, frames: number, start: number): void;
  pcmRingSlotAddress(ring: number, slot: number): number;
  pcmRingWriteSlot(ring: number): number;
  pcmRingCommit(ring: number): void;
  pcmRingReadSlot(ring: number): number;
  pcmRingRelease(ring: number): void;
  pcmRingPush(ring: number, src: number): number;
  pcmRingPop(ring: number, dst: number): number;
  pcmRingLength(ring: number): number;
  pcmRingFrames(ring: number): number;
  pcmRingPushed(ring: number): number;
  pcmRingPopped(ring: number): number;
  pcmRingDropped(ring: number): number;

  jitterBytes(capacity: number, maxPacket: number): number;
  jitterInit(
    jb: number,
    capacity: number,
    maxPacket: number,
    minDepth: number,
    maxDepth: number,
    shrinkAfter: number,
  ): void;
  jitterStaging(jb: number): number;
  jitterInsert(jb: number, seq: number, src: number, length: number): number;
  jitterInsertRtp(jb: number, src: number, length: number): number;
  jitterDrainRing(jb: number, ring: number): number;
  jitterPop(jb: number, dst: number): number;
  jitterNextSeq(jb: number): number;
  jitterDepth(jb: number): number;
  jitterBuffered(jb: number): number;
  jitterReceived(jb: number): number;
  jitterPlayed(jb: number): number;
  jitterLost(jb: number): number;
  jitterReordered(jb: number): number;
  jitterDuplicates(jb: number): number;
  jitterLate(jb: number): number;
  jitterDiscarded(jb: number): number;
  jitterResyncs(jb: number): number;
  jitterUnderruns(jb: number): number;
  jitterInvalid(jb: number): number;

  levelDbfs(samples: number, count: number): number;
  meterBytes(maxSamples: number): number;
  meterInit(meter: number, maxSamples: number, thresholdDbfs: number, hangover: number): void;
  meterStaging(meter: number): number;
  meterUpdate(meter: number, samples: number, count: number): number;
  meterLevel(meter: number): number;
  meterActive(meter: number): number;
  meterFrames(meter: number): number;
  meterSpeechFrames(meter: number): number;
  meterActiveFrames(meter: number): number;
  meterMaxSamples(meter: number): number;

  RING_EMPTY: WasmGlobal;
  RING_TOO_SMALL: WasmGlobal;
  FRAME_SAMPLES: WasmGlobal;
  FRAME_BYTES: WasmGlobal;
  NO_SLOT: WasmGlobal;
  JITTER_GAP: WasmGlobal;
  JITTER_EMPTY: WasmGlobal;
  INSERT_STORED: WasmGlobal;
  INSERT_DUPLICATE: WasmGlobal;
  INSERT_LATE: WasmGlobal;
  INSERT_INVALID: WasmGlobal;
  INSERT_JUMP: WasmGlobal;
  SILENCE_DBFS: WasmGlobal;
}

/** Export names the loader checks for, so a stale or foreign wasm file fails at load. */
export const REQUIRED_FUNCTIONS: readonly (keyof AudioCoreExports)[] = [
  'heapBase',
  'packetRingInit',
  'packetRingPush',
  'packetRingPop',
  'pcmRingInit',
  'pcmRingWriteSlot',
  'pcmRingReadSlot',
  'jitterInit',
  'jitterInsert',
  'jitterDrainRing',
  'jitterPop',
  'meterInit',
  'meterUpdate',
];
