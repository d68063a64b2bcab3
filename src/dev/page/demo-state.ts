/**
 * What the page knows about the call. The bridge's side comes from its admin API
 * (`/api/calls/<call_id>`); the browser's side from the MatrixCall and its RTCPeerConnection.
 */

/** A live call's usage and limits, as the admin API reports them. */
export interface LiveCall {
  duration_ms: number;
  duration_limit_ms: number;
  tokens_used: number;
  token_limit: number;
  ttl_remaining_ms: number;
  max_ttl_remaining_ms: number;
  stop_reason: string | null;
  media: { packets_in: number; packets_out: number; packets_lost: number; jitter_ms: number };
}

/** A finished call's audit record, as the admin API reports it. */
export interface FinishedCall {
  end_reason: string;
  duration: number;
  token_usage: { input_tokens: number; output_tokens: number };
}

/** The admin API's answer about one call (`/api/calls/<call_id>`). */
export type BridgeCall =
  | { state: 'live'; call: LiveCall }
  | { state: 'ended' | 'denied' | 'failed'; call: FinishedCall };

/** What the browser measured on its own peer connection. */
export interface BrowserMedia {
  packetsSent: number;
  packetsReceived: number;
  /** The latest level of the decoded remote audio, 0 to 1. */
  audioLevel: number;
  /** The highest level seen during the call. */
  maxAudioLevel: number;
  totalAudioEnergy: number;
  totalSamplesReceived: number;
}

/** Everything the page shows; also readable from outside as `window.voicebridgeDemo.state`. */
export interface DemoState {
  ready: boolean;
  error: string | undefined;
  userId: string | undefined;
  roomId: string | undefined;
  callId: string | undefined;
  /** The MatrixCall's state (`ringing`, `connected`, `ended`, ...). */
  callState: string | undefined;
  /** Why the MatrixCall ended, and which side ended it, as the SDK tells it. */
  hangupReason: string | undefined;
  hangupParty: string | undefined;
  /** The bridge's refusal or hangup event (`m.call.reject`, `m.call.hangup`) and its reason. */
  bridgeEvent: string | undefined;
  bridgeReason: string | undefined;
  /** Whether that event came encrypted (the room is). */
  bridgeEventEncrypted: boolean | undefined;
  /** The latest answer of the admin API about this call. */
  bridge: BridgeCall | undefined;
  media: BrowserMedia | undefined;
}

/** A fresh state before the client is up. */
export function initialState(): DemoState {
  return {
    ready: false,
    error: undefined,
    userId: undefined,
    roomId: undefined,
    ...callPart(undefined, undefined),
  };
}

/** The fields that belong to one call, as they are when the call has just been placed. */
export function callPart(
  callId: string | undefined,
  callState: string | undefined,
): Omit<DemoState, 'ready' | 'error' | 'userId' | 'roomId'> {
  return {
    callId,
    callState,
    hangupReason: undefined,
    hangupParty: undefined,
    bridgeEvent: undefined,
    bridgeReason: undefined,
    bridgeEventEncrypted: undefined,
    bridge: undefined,
    media: undefined,
  };
}
