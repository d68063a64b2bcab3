/** PeerConnections created by this process whose close the library has not yet confirmed. */
let livePeerConnections = 0;

/**
 * How many native PeerConnections are still held: created and not yet confirmed closed by the
 * library (both the connection's `closed` state and its track's close have arrived). It should
 * come back to 0 once every CallPeer is closed and its `released` promise has settled.
 */
export function liveNativePeerCount(): number {
  return livePeerConnections;
}

/** Records that a native PeerConnection was created. */
export function notePeerConnectionCreated(): void {
  livePeerConnections += 1;
}

/** Records that the library confirmed a PeerConnection closed and let go of its callbacks. */
export function notePeerConnectionReleased(): void {
  livePeerConnections -= 1;
}
