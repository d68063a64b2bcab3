/** Bytes of the fixed RTP header (RFC 3550). */
export const RTP_HEADER_BYTES = 12;

/**
 * Where the payload of an RTP packet starts, past CSRCs and a header extension, or -1 when
 * the packet is not a well-formed RTP packet. Padding at the end is left to `rtpPayloadEnd`.
 */
export function rtpPayloadOffset(packet: Uint8Array): number {
  if (packet.length < RTP_HEADER_BYTES || (packet[0] as number) >> 6 !== 2) return -1;
  const first = packet[0] as number;
  let offset = RTP_HEADER_BYTES + (first & 0x0f) * 4;
  if (first & 0x10) {
    if (packet.length < offset + 4) return -1;
    const words = ((packet[offset + 2] as number) << 8) | (packet[offset + 3] as number);
    offset += 4 + words * 4;
  }
  return offset <= packet.length ? offset : -1;
}

/** Where the payload of an RTP packet ends, before any padding; -1 when padding is bad. */
export function rtpPayloadEnd(packet: Uint8Array, offset: number): number {
  if (((packet[0] as number) & 0x20) === 0) return packet.length;
  const padding = packet[packet.length - 1] as number;
  const end = packet.length - padding;
  return padding > 0 && end >= offset ? end : -1;
}

/** The payload type of an RTP packet. */
export function rtpPayloadType(packet: Uint8Array): number {
  return (packet[1] as number) & 0x7f;
}

/** Writes a 12-byte RTP header (version 2, no padding, extension or CSRC) at the start of `into`. */
export function writeRtpHeader(
  into: Uint8Array,
  payloadType: number,
  sequence: number,
  timestamp: number,
  ssrc: number,
  marker = false,
): void {
  into[0] = 0x80;
  into[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  into[2] = (sequence >>> 8) & 0xff;
  into[3] = sequence & 0xff;
  into[4] = (timestamp >>> 24) & 0xff;
  into[5] = (timestamp >>> 16) & 0xff;
  into[6] = (timestamp >>> 8) & 0xff;
  into[7] = timestamp & 0xff;
  into[8] = (ssrc >>> 24) & 0xff;
  into[9] = (ssrc >>> 16) & 0xff;
  into[10] = (ssrc >>> 8) & 0xff;
  into[11] = ssrc & 0xff;
}
