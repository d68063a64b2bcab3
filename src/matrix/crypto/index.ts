/** End-to-end encryption for the bridge's Matrix device, over a store saved to disk. */
export { BridgeCrypto } from './bridge-crypto.js';
export type { BridgeCryptoOptions, IdentityKeys } from './bridge-crypto-options.js';
export type { DecryptedRoomEvent, MatrixEvent, ReceivedToDeviceEvent } from './crypto-events.js';
export { CryptoError, type CryptoErrorCode } from './crypto-error.js';
export type {
  CryptoRequestKind,
  CryptoRequestSender,
  OutgoingCryptoRequest,
} from './crypto-request.js';
export type { CryptoStoreStats } from './crypto-store.js';
export { loadOrCreateStoreKey, parseStoreKey, STORE_KEY_BYTES } from './store-key.js';
export type { DeviceListChanges } from './sync-changes.js';
