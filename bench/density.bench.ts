import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';

import { AuditStore } from '../src/audit/audit-store.js';
import { createPolicyCore } from '../src/calls/policy-core.js';
import { systemClock } from '../src/clock.js';
import { defaultConfig } from '../src/config/load.js';
import { MediaEngine } from '../src/engine/media-engine.js';
import type { MediaLeg, RtpSender } from '../src/engine/media-leg.js';
import { SecurityLog } from '../src/telemetry/security-log.js';
import { createOpusCodec } from '../workers/codec/opus-codec.js';
import { writeRtpHeader } from '../workers/media/rtp.js';
import { printTable } from './table.js';

const SECONDS = Number(process.env.DENSITY_SECONDS ?? 5);
const STEPS = (process.env.DENSITY_CALLS ?? '10,40,80').split(',').map(Number);

/** Counts what the engine sends, as a call's peer would. */
class CountingSender implements RtpSender {
  readonly payloadType = 111;
  readonly ssrc = 0x5eed;
  sent = 0;
  sendRtp(): boolean {
    this.sent += 1;
    return true;
  }
}

/**
 * Dense call hosting: N calls through the real media engine (rings, workers, jitter buffer,
 * Opus decode and encode, echo agent, limit checks), each fed one Opus packet every 20 ms
 * from the main thread as WebRTC would. WebRTC itself is left out: its cost on the main
 * thread is measured separately (about 10 µs per packet). Reports tick lateness and CPU.
 */
export async function run(): Promise<Record<string, number>> {
  const figures: Record<string, number> = { workers: Math.max(1, availableParallelism() - 1) };
  for (const calls of STEPS) Object.assign(figures, await measure(calls));
  return figures;
}

async function measure(calls: number): Promise<Record<string, number>> {
  const voice = { ...defaultConfig().voice, max_concurrent_calls: calls, rate_limit_calls: 0 };
  const core = createPolicyCore(voice, {
    clock: systemClock,
    log: SecurityLog.silent(),
    audit: AuditStore.open(':memory:'),
    callee: '@bench:localhost',
  });
  const engine = await MediaEngine.start({
    sessions: core.sessions,
    workers: 0,
    tickMs: 20,
    agent: { kind: 'echo', delayMs: 0, tokensPerSecond: 0 },
  });

  const packets = sinePackets(50);
  const legs: MediaLeg[] = [];
  const senders: CountingSender[] = [];
  for (let i = 0; i < calls; i++) {
    const started = core.gate.start({
      callId: `bench-${i}`,
      userId: `@caller${i}:localhost`,
      roomId: `!room${i}:localhost`,
      signalingEncrypted: true,
      signalingTls: true,
    });
    if (!started.admitted) throw new Error(`call ${i} refused: ${started.reason}`);
    const sender = new CountingSender();
    senders.push(sender);
    legs.push(await engine.open(started.session, sender));
  }

  const lateness: number[] = [];
  engine.onTicks((latenessMs) => lateness.push(...latenessMs));
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const ticks = SECONDS * 50;
  for (let tick = 0; tick < ticks; tick++) {
    const packet = packets[tick % packets.length] as Buffer;
    writeRtpHeader(packet, 111, tick & 0xffff, (tick * 960) >>> 0, 0x1234);
    for (const leg of legs) leg.receive(packet);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const wallMs = performance.now() - wallBefore;
  const cpu = process.cpuUsage(cpuBefore);
  lateness.sort((a, b) => a - b);
  const sent = senders.reduce((sum, s) => sum + s.sent, 0);
  await engine.shutdown();

  const pct = (p: number): number => lateness[Math.floor((lateness.length - 1) * p)] ?? 0;
  const cpuMs = (cpu.user + cpu.system) / 1_000;
  return {
    [`calls_${calls}_tick_lateness_p50_ms`]: pct(0.5),
    [`calls_${calls}_tick_lateness_p99_ms`]: pct(0.99),
    [`calls_${calls}_process_cpu_percent_of_one_core`]: (100 * cpuMs) / wallMs,
    [`calls_${calls}_cpu_ms_per_call_second`]: cpuMs / (calls * (wallMs / 1_000)),
    [`calls_${calls}_packets_out_per_packet_in`]: sent / (calls * ticks),
  };
}

/** `count` Opus packets of a 440 Hz tone, each with room for a 12-byte RTP header. */
function sinePackets(count: number): Buffer[] {
  const codec = createOpusCodec();
  const packets: Buffer[] = [];
  for (let n = 0; n < count; n++) {
    const frame = new Int16Array(960);
    for (let i = 0; i < 960; i++) {
      frame[i] = Math.round(Math.sin((2 * Math.PI * 440 * (n * 960 + i)) / 48_000) * 9_000);
    }
    const payload = codec.encode(frame);
    const packet = Buffer.alloc(12 + payload.length);
    packet.set(payload, 12);
    packets.push(packet);
  }
  codec.close();
  return packets;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  printTable('density', await run());
}
