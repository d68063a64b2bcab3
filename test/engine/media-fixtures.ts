import type { CallSession } from '../../src/engine/call-session.js';
import { MediaEngine } from '../../src/engine/media-engine.js';
import type { MediaLeg, RtpSender } from '../../src/engine/media-leg.js';
import { auditStateOf } from '../../src/engine/stop-reason.js';
import { SineSource } from '../../src/synthetic/sine-source.js';
import { createOpusCodec } from '../../workers/codec/opus-codec.js';
import type { AgentSpec } from '../../workers/media/media-messages.js';
import { rtpPayloadOffset } from '../../workers/media/rtp.js';
import { coreWith } from '../calls/core-fixture.js';
import { callFrom } from '../policy/helpers.js';

export { sineFrame } from '../../src/synthetic/sine-source.js';

/** RMS of a frame as a share of full scale. */
export function rms(frame: Int16Array): number {
  let sum = 0;
  for (const sample of frame) sum += sample * sample;
  return Math.sqrt(sum / frame.length) / 32768;
}

/** Makes the RTP packets a caller would send: Opus frames of a sine, in sequence. */
export class SineCaller {
  readonly #source: SineSource;

  constructor(payloadType = 111, ssrc = 0x1234_5678) {
    // Sequence numbers wrap past 65535 early on purpose.
    this.#source = new SineSource({ payloadType, ssrc, firstSequence: 65_530 });
  }

  /** The next packet. */
  next(): Buffer {
    return this.#source.next();
  }

  /** Kept for the callers' sake: the source holds no codec of its own. */
  close(): void {}
}

/** Decodes the Opus RTP packets a caller received and returns the RMS of each frame. */
export function levelsOf(packets: Buffer[]): number[] {
  const codec = createOpusCodec();
  try {
    return packets.map((packet) => rms(codec.decode(packet.subarray(rtpPayloadOffset(packet)))));
  } finally {
    codec.close();
  }
}

/** Stands in for a call's WebRTC peer: keeps what the engine sends. */
export class CollectingSender implements RtpSender {
  readonly payloadType = 111;
  readonly ssrc = 0x0bad_cafe;
  readonly packets: Buffer[] = [];
  sendRtp(packet: Buffer): boolean {
    this.packets.push(packet);
    return true;
  }
}

const engines: MediaEngine[] = [];

/** Shuts down every engine the fixtures started; call after each test. */
export async function shutdownEngines(): Promise<void> {
  await Promise.all(engines.splice(0).map((engine) => engine.shutdown()));
}

/**
 * A policy core and a two-worker media engine running `agent`. Every stop ends the call the
 * way a host would: the engine drops its media and the gate commits its record.
 */
export async function withEngine(changes: Parameters<typeof coreWith>[0], agent: AgentSpec) {
  const core = coreWith({ default_token_limit: 1_000_000, ...changes });
  const engine = await MediaEngine.start({
    sessions: core.sessions,
    workers: 2,
    tickMs: 20,
    agent,
  });
  engines.push(engine);
  // The engine reads the wall clock in the workers; keep the core's clock on it too.
  core.clock.set(Date.now());
  const stops: Array<{ callId: string; reason: string }> = [];
  core.sessions.onStop((session, reason) => {
    stops.push({ callId: session.callId, reason });
    void engine.close(session.callId, reason);
    core.gate.end(session, { reason, state: auditStateOf(reason) });
  });
  const call = async (): Promise<{
    session: CallSession;
    leg: MediaLeg;
    sender: CollectingSender;
  }> => {
    const result = core.gate.start(
      callFrom(`@u${Math.random().toString(36).slice(2)}:example.org`),
    );
    if (!result.admitted) throw new Error(result.reason);
    const sender = new CollectingSender();
    const leg = await engine.open(result.session, sender);
    return { session: result.session, leg, sender };
  };
  return { core, engine, stops, call };
}

/** Sends `count` packets from `caller` to each leg, one every 20 ms. */
export async function talk(legs: MediaLeg[], count: number): Promise<void> {
  const callers = legs.map(() => new SineCaller());
  for (let i = 0; i < count; i++) {
    legs.forEach((leg, n) => leg.receive((callers[n] as SineCaller).next()));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  callers.forEach((caller) => caller.close());
}

/** Waits `ms` milliseconds. */
export const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
