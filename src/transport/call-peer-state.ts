/** The connection state of a CallPeer, in the library's (and the W3C) words. */
export type CallPeerState =
  | 'new'
  | 'connecting'
  | 'connected'
  | 'disconnected'
  | 'failed'
  | 'closed';

const STATES: ReadonlySet<string> = new Set<CallPeerState>([
  'new',
  'connecting',
  'connected',
  'disconnected',
  'failed',
  'closed',
]);

/** Reads a state string reported by the native library; unknown strings give undefined. */
export function parsePeerState(value: unknown): CallPeerState | undefined {
  return typeof value === 'string' && STATES.has(value) ? (value as CallPeerState) : undefined;
}

/** Reasons a CallPeer gives when it closes itself rather than being closed by its owner. */
export type TransportCloseReason =
  /** A callback or the library threw; see the error callback for which. */
  | 'transport_error'
  /** ICE or DTLS failed. */
  | 'ice_failed'
  /** The library closed the connection or the track (for example the far end's DTLS close). */
  | 'transport_closed'
  /** The library refused the offer after it passed validation. */
  | 'negotiation_failed';
