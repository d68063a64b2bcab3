/** How one call placed by the soak runner turned out. */
export interface CallOutcome {
  callId: string;
  /** Answered, audio came back, and it ended as planned (or was hung up early by the runner). */
  ok: boolean;
  /** Why it ended: the caller's or the bridge's reason, or what failed. */
  reason: string;
  durationMs: number;
  packetsSent: number;
  packetsReceived: number;
}

/**
 * Places calls on the bridge from outside its process. The soak runner keeps CONCURRENT_CALLS
 * of them going, each held for CALL_ROTATION seconds and then replaced.
 */
export interface CallDriver {
  /** Places a call held for `holdMs`; settles when it has ended, however it ended. */
  place(holdMs: number): Promise<CallOutcome>;
  /** Hangs up every call in progress now (each still settles, as hung up early). */
  hangupAll(): void;
  /** Ends every call and every caller process. */
  stop(): Promise<void>;
}
