import { pathToFileURL } from 'node:url';

import { do_not_optimize, measure } from 'mitata';

import {
  AudioCore,
  FRAME_SAMPLES,
  JitterBuffer,
  LevelMeter,
  PacketRing,
  PcmRing,
  RegionAllocator,
  createAudioMemory,
} from '../src/engine/audio-core.js';
import { printTable } from './table.js';

/** An RTP packet of `length` bytes with sequence number `seq`. */
function rtpPacket(seq: number, length: number): Uint8Array {
  const packet = new Uint8Array(length);
  packet[0] = 0x80;
  packet[1] = 111;
  packet[2] = (seq >> 8) & 0xff;
  packet[3] = seq & 0xff;
  for (let i = 12; i < length; i++) packet[i] = (i * 37) & 0xff;
  return packet;
}

/** A 440 Hz tone at about -12 dBFS: a frame the meter has to do real work on. */
function toneFrame(): Int16Array {
  return Int16Array.from({ length: FRAME_SAMPLES }, (_, i) =>
    Math.round(8_000 * Math.sin((2 * Math.PI * 440 * i) / 48_000)),
  );
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

/**
 * Nanoseconds per operation of the audio core, as the media loop uses it: a 960-sample frame
 * through the PCM ring, a packet through the packet ring, a packet through the jitter buffer
 * (insert plus its pop), and the level meter on one frame. Means over mitata's samples.
 */
export async function run(): Promise<Record<string, number>> {
  const memory = createAudioMemory({ initialPages: 64 });
  const core = await AudioCore.load(memory);
  const allocator = RegionAllocator.forCore(core);
  const figures: Record<string, number> = {};
  const time = async (name: string, op: () => unknown): Promise<void> => {
    figures[name] = round1((await measure(op)).avg);
  };

  // The bare cost of crossing into wasm, for scale.
  const probe = JitterBuffer.create(core, allocator);
  await time('wasm_call_ns', () => do_not_optimize(core.exports.jitterDepth(probe.ptr)));

  // PCM frames: copied in and out from JS arrays, filled and read in place, and copied by wasm.
  const pcm = PcmRing.create(core, allocator, { frames: 16 });
  const frame = toneFrame();
  const into = new Int16Array(FRAME_SAMPLES);
  await time('pcm_ring_push_pop_ns', () => {
    pcm.push(frame);
    pcm.pop(into);
  });
  await time('pcm_ring_in_place_ns', () => {
    pcm.reserve()?.set(frame);
    pcm.commit();
    do_not_optimize(pcm.peek());
    pcm.release();
  });
  const area = allocator.alloc(2 * FRAME_SAMPLES * 2);
  await time('pcm_ring_wasm_copy_ns', () => {
    core.exports.pcmRingPush(pcm.ptr, area);
    core.exports.pcmRingPop(pcm.ptr, area + FRAME_SAMPLES * 2);
  });

  // Packets: a typical Opus voice packet (about 160 bytes with its RTP header) and a full one.
  const ring = PacketRing.create(core, allocator, { capacity: 65_536 });
  const bytes = new Uint8Array(1500);
  for (const length of [160, 1200]) {
    const packet = rtpPacket(1, length);
    await time(`packet_ring_push_pop_${length}b_ns`, () => {
      ring.push(packet);
      ring.pop(bytes);
    });
  }
  const voicePacket = rtpPacket(1, 160);
  await time('packet_ring_push_pop_staged_160b_ns', () => {
    ring.push(voicePacket);
    ring.popStaged();
  });

  // The same packet already in shared memory: no JS copies, only wasm's.
  const shared = new Uint8Array(core.buffer, allocator.alloc(1500), 1500);
  shared.set(voicePacket);
  const sharedPacket = shared.subarray(0, voicePacket.length);
  const sharedInto = new Uint8Array(core.buffer, allocator.alloc(1500), 1500);
  await time('packet_ring_push_pop_in_memory_160b_ns', () => {
    ring.push(sharedPacket);
    ring.pop(sharedInto);
  });

  // Jitter buffer in steady state: one packet in and one out per tick, sequence wrapping.
  const jb = JitterBuffer.create(core, allocator, { minDepth: 2 });
  let seq = 0;
  await time('jitter_insert_pop_ns', () => {
    jb.insert(seq, voicePacket);
    seq = (seq + 1) & 0xffff;
    jb.popStaged();
  });
  await time('jitter_insert_pop_in_memory_ns', () => {
    jb.insert(seq, sharedPacket);
    seq = (seq + 1) & 0xffff;
    jb.pop(sharedInto);
  });

  // The wasm alone, called by pointer: what the TypeScript wrappers add is the difference.
  const x = core.exports;
  await time('packet_ring_wasm_push_pop_160b_ns', () => {
    x.packetRingPush(ring.ptr, shared.byteOffset, 160);
    x.packetRingPop(ring.ptr, sharedInto.byteOffset, 1500);
  });
  await time('jitter_wasm_insert_pop_ns', () => {
    x.jitterInsert(jb.ptr, seq, shared.byteOffset, 160);
    seq = (seq + 1) & 0xffff;
    x.jitterPop(jb.ptr, sharedInto.byteOffset);
  });
  const rtp = rtpPacket(0, 160);
  const fed = JitterBuffer.create(core, allocator, { minDepth: 2 });
  let rtpSeq = 0;
  await time('jitter_ring_drain_pop_ns', () => {
    rtp[2] = rtpSeq >> 8;
    rtp[3] = rtpSeq & 0xff;
    rtpSeq = (rtpSeq + 1) & 0xffff;
    ring.push(rtp);
    fed.drain(ring);
    fed.popStaged();
  });

  // Level meter on a frame from a JS array (staged) and on one already in shared memory.
  const meter = LevelMeter.create(core, allocator);
  await time('level_meter_frame_ns', () => do_not_optimize(meter.update(frame)));
  pcm.push(frame);
  const inPlace = pcm.peek() as Int16Array;
  await time('level_meter_in_place_ns', () => do_not_optimize(meter.update(inPlace)));
  pcm.release();

  const lost = jb.stats().lost + fed.stats().lost;
  if (lost !== 0) throw new Error(`the jitter benchmark lost ${lost} packets`);
  return figures;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  printTable('audio core (ns per operation)', await run());
}
