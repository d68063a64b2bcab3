/**
 * Per-peer traffic counters, kept by the peer itself: node-datachannel reports 0 bytes for
 * connections that carry only media.
 */
export interface CallPeerStats {
  /** RTP packets received and handed to `onRtp`. */
  packetsIn: number;
  /** Bytes of those packets, headers included (after SRTP decryption). */
  bytesIn: number;
  /** RTP packets the library accepted for sending. */
  packetsOut: number;
  /** Bytes of those packets, headers included (before SRTP encryption). */
  bytesOut: number;
  /** RTCP packets received (counted, not forwarded). */
  rtcpIn: number;
  /** Received packets dropped: malformed, or a payload type other than the answer's Opus. */
  droppedIn: number;
  /** Packets `sendRtp` refused: media not open, peer closing, malformed or library refusal. */
  droppedOut: number;
}

/** A fresh set of counters, all zero. */
export function emptyStats(): CallPeerStats {
  return {
    packetsIn: 0,
    bytesIn: 0,
    packetsOut: 0,
    bytesOut: 0,
    rtcpIn: 0,
    droppedIn: 0,
    droppedOut: 0,
  };
}
