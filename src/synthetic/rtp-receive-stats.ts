/**
 * Counts the RTP packets one stream delivers and how many it lost, from sequence numbers
 * (RFC 3550 appendix A.3): packets expected are those from the first sequence number seen to
 * the highest, extended past each wrap; lost is expected minus received, never below zero
 * (duplicates can outnumber losses). Packets still on their way when counting stops are not
 * counted as lost, since they are above the highest number seen.
 */
export class RtpReceiveStats {
  /** Packets received. */
  received = 0;
  /** The first extended sequence number, once a packet came. */
  #first: number | undefined;
  /** The highest extended sequence number so far. */
  #highest = 0;

  /** Records one packet; anything shorter than an RTP header is ignored. */
  record(packet: Uint8Array): void {
    if (packet.length < 12) return;
    const sequence = ((packet[2] as number) << 8) | (packet[3] as number);
    this.received += 1;
    if (this.#first === undefined) {
      this.#first = sequence;
      this.#highest = sequence;
      return;
    }
    // The extension nearest to the highest so far: a step back of up to half the space is a
    // late packet, a step forward across 65535 is a wrap.
    const cycle = this.#highest - (this.#highest & 0xffff);
    let extended = cycle + sequence;
    if (extended - this.#highest > 0x8000) extended -= 0x1_0000;
    else if (this.#highest - extended > 0x8000) extended += 0x1_0000;
    if (extended > this.#highest) this.#highest = extended;
  }

  /** Packets the sequence numbers say were sent, from the first seen to the highest. */
  get expected(): number {
    return this.#first === undefined ? 0 : this.#highest - this.#first + 1;
  }

  /** Packets lost on the way. */
  get lost(): number {
    return Math.max(0, this.expected - this.received);
  }
}
