import type { PacketRing, RegionAllocator } from './audio-core.js';
import type { CallSession } from './call-session.js';
import { F64, type SlotTable } from './slot-table.js';

/** Where a call's outgoing RTP goes: its WebRTC peer. */
export interface RtpSender {
  /** The RTP payload type the far end expects for Opus. */
  readonly payloadType: number;
  /** Our SSRC. */
  readonly ssrc: number;
  /** Sends one RTP packet; false when it could not (the peer is closing). */
  sendRtp(packet: Buffer): boolean;
}

/** RTP clock ticks per millisecond for Opus. */
const RTP_TICKS_PER_MS = 48;

/**
 * One call's media on the main thread: the inbound ring it fills with the caller's RTP, the
 * outbound ring it drains into the caller's track, and the interarrival jitter (RFC 3550),
 * which only the receiving thread can measure.
 */
export class MediaLeg {
  readonly session: CallSession;
  /** Index of the loop the call runs on. */
  readonly loop: number;
  /** Set once the engine started closing the leg. */
  closing = false;
  /** What the worker said when it raised the call's stop (an agent's error, say). */
  stopDetail: string | undefined;
  readonly #slots: SlotTable;
  readonly #inbound: PacketRing;
  readonly #outbound: PacketRing;
  readonly #sender: RtpSender;
  /** Waiters for the worker's acknowledgements. */
  readonly #waiters = new Map<string, { resolve: () => void; reject: (error: Error) => void }>();
  /** Answers that came before anyone waited. */
  readonly #settled = new Set<string>();
  /** Jitter state: the last packet's transit time in RTP ticks, and the estimate. */
  #lastTransit: number | undefined;
  #jitter = 0;
  #released = false;
  /** Packets the inbound ring refused (full). */
  droppedIn = 0;

  constructor(
    session: CallSession,
    slots: SlotTable,
    inbound: PacketRing,
    outbound: PacketRing,
    sender: RtpSender,
    loop: number,
  ) {
    this.session = session;
    this.#slots = slots;
    this.#inbound = inbound;
    this.#outbound = outbound;
    this.#sender = sender;
    this.loop = loop;
  }

  /** Takes one RTP packet from the caller (called from the transport's native callback). */
  receive(packet: Uint8Array): void {
    if (this.#released || packet.length < 12) return;
    const timestamp =
      (((packet[4] as number) << 24) |
        ((packet[5] as number) << 16) |
        ((packet[6] as number) << 8) |
        (packet[7] as number)) >>>
      0;
    const transit = performance.now() * RTP_TICKS_PER_MS - timestamp;
    if (this.#lastTransit !== undefined) {
      const d = Math.abs(transit - this.#lastTransit);
      // A jump of more than a minute is a timestamp wrap or a new stream, not jitter.
      if (d < 60_000 * RTP_TICKS_PER_MS) this.#jitter += (d - this.#jitter) / 16;
    }
    this.#lastTransit = transit;
    this.#slots.set(this.session.handle.index, F64.jitterMs, this.#jitter / RTP_TICKS_PER_MS);
    if (!this.#inbound.push(packet)) this.droppedIn += 1;
  }

  /** Sends every packet the worker has queued for the caller. */
  drain(): void {
    if (this.#released) return;
    let length: number;
    while ((length = this.#outbound.popStaged()) > 0) {
      this.#sender.sendRtp(Buffer.from(this.#outbound.staged.subarray(0, length)));
    }
  }

  /** Resolves when the worker acknowledges `what`. */
  waitFor(what: 'added' | 'removed'): Promise<void> {
    if (this.#settled.delete(what)) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.set(what, { resolve, reject }));
  }

  /** The worker acknowledged `what`. */
  settle(what: 'added' | 'removed'): void {
    const waiter = this.#waiters.get(what);
    this.#waiters.delete(what);
    if (waiter === undefined) this.#settled.add(what);
    else waiter.resolve();
  }

  /** The worker will never acknowledge `what`. */
  fail(what: 'added' | 'removed', error: Error): void {
    const waiter = this.#waiters.get(what);
    this.#waiters.delete(what);
    waiter?.reject(error);
  }

  /** Frees the rings; nothing is received or sent after this. Idempotent. */
  release(allocator: RegionAllocator): void {
    if (this.#released) return;
    this.#released = true;
    allocator.release(this.#inbound.ptr);
    allocator.release(this.#outbound.ptr);
  }
}
