/** The fixed RTP header (RFC 3550): the shortest RTP packet worth forwarding. */
export const RTP_HEADER_BYTES = 12;

/** The shortest RTCP packet: a header and the sender's SSRC. */
const RTCP_MIN_BYTES = 8;

/** What a packet received on the audio track turned out to be. */
export type PacketKind = 'rtp' | 'rtcp' | 'malformed';

/**
 * Sorts a packet received on a muxed RTP/RTCP track (RFC 5761): RTCP packet types 192 to 223
 * sit where RTP keeps its marker bit and payload type, and Opus never uses those values.
 */
export function classifyPacket(packet: Uint8Array): PacketKind {
  if (packet.length < RTCP_MIN_BYTES || (packet[0]! & 0xc0) !== 0x80) return 'malformed';
  const second = packet[1]!;
  if (second >= 192 && second <= 223) return 'rtcp';
  return packet.length < RTP_HEADER_BYTES ? 'malformed' : 'rtp';
}

/** The payload type of an RTP packet already classified as `rtp`. */
export function rtpPayloadType(packet: Uint8Array): number {
  return packet[1]! & 0x7f;
}

/** True when a packet to send has at least an RTP version 2 header. */
export function looksLikeRtp(packet: Uint8Array): boolean {
  return packet.length >= RTP_HEADER_BYTES && (packet[0]! & 0xc0) === 0x80;
}
