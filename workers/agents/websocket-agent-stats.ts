/**
 * Where a WebSocket agent's connection stands: `connecting` until the agent accepts it, `open`
 * while audio flows, `closed` once either side has begun closing it or it failed.
 */
export type WebSocketAgentState = 'connecting' | 'open' | 'closed';

/** A snapshot of one WebSocket agent's counters. */
export interface WebSocketAgentStats {
  state: WebSocketAgentState;
  /** The caller's audio, bridge to agent. */
  toAgent: {
    /** Frames handed to the socket. */
    sent: number;
    /**
     * Frames heard but not sent: the socket was not open, already held too much unsent, or the
     * frame was not FRAME_SAMPLES long. Frames heard after the call ended are not counted.
     */
    dropped: number;
    /** Bytes the socket has accepted and not yet written to the network. */
    bufferedBytes: number;
  };
  /** The agent's audio, agent to bridge. */
  fromAgent: {
    /** Frames received. */
    received: number;
    /** Frames pushed out of the full queue unplayed, oldest first. */
    dropped: number;
    /** Frames waiting for `speak`. */
    queued: number;
  };
  /** Times one of the call's event handlers threw; the agent caught it and went on. */
  callbackErrors: number;
}
