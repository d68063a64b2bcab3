/**
 * Synthetic callers: Matrix users that place real, end-to-end encrypted calls with real WebRTC
 * and Opus audio, for load and soak runs against a bridge. Start a `CallerFleet` (caller child
 * processes, each with its own node-datachannel on its main thread), `placeCall` as often as
 * wanted, read each `CallReport`, `stop`. The pieces (an account, one call, the offering
 * peer, the sine source, the RTP loss counter) are exported for single-process use too.
 */
export { CallerAccount, type ReceivedCallEvent } from './caller-account.js';
export { registerAccount } from './register-account.js';
export {
  CallerFleet,
  type CallerFleetOptions,
  type PlaceCallOptions,
  type PlacedCall,
} from './caller-fleet.js';
export type { CallerInfo } from './caller-protocol.js';
export {
  failedCallReport,
  type CallEndReason,
  type CallReport,
  type IceFigures,
  type PacketFigures,
} from './call-report.js';
export { MediaTicker } from './media-ticker.js';
export { OfferPeer, type OfferPeerOptions } from './offer-peer.js';
export { RtpReceiveStats } from './rtp-receive-stats.js';
export { SineSource, sineFrame, FRAME_SAMPLES, type SineSourceOptions } from './sine-source.js';
export { SyntheticCall, type SyntheticCallOptions } from './synthetic-call.js';
