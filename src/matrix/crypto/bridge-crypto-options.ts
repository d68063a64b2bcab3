import { TrustRequirement } from '@matrix-org/matrix-sdk-crypto-wasm';

import { CryptoError, describeValue } from './crypto-error.js';
import type { CryptoRequestSender } from './crypto-request.js';
import { checkDeviceId, checkUserId } from './matrix-ids.js';

/** How to open the crypto layer of one Matrix device. */
export interface BridgeCryptoOptions {
  /** The bot's user id, `@name:server`. */
  userId: string;
  /** The device id the homeserver gave at login; fixed for the life of the store. */
  deviceId: string;
  /** The folder the store is saved in (created with mode 0700). */
  storeDir: string;
  /** The 32-byte store key, from `loadOrCreateStoreKey` or the configuration. */
  key: Uint8Array;
  /** Sends requests to the homeserver, for the flows that need a round trip. */
  send: CryptoRequestSender;
  /** Who may send events we decrypt. Default `Untrusted`: any device, verified or not. */
  trust?: TrustRequirement;
}

/** This device's public identity keys, base64. */
export interface IdentityKeys {
  curve25519: string;
  ed25519: string;
}

const TRUST_LEVELS: ReadonlySet<unknown> = new Set([
  TrustRequirement.Untrusted,
  TrustRequirement.CrossSignedOrLegacy,
  TrustRequirement.CrossSigned,
]);

/**
 * Checks the options that the store does not check itself; throws CryptoError `invalid_input`
 * naming the field. Returns the trust requirement to decrypt with.
 */
export function checkOptions(options: BridgeCryptoOptions): TrustRequirement {
  checkUserId(options.userId, 'userId');
  checkDeviceId(options.deviceId, 'deviceId');
  if (typeof options.send !== 'function') {
    throw new CryptoError(
      'invalid_input',
      `crypto: send: expected a function, got ${describeValue(options.send)}`,
    );
  }
  const trust = options.trust ?? TrustRequirement.Untrusted;
  if (!TRUST_LEVELS.has(trust)) {
    throw new CryptoError(
      'invalid_input',
      `crypto: trust: expected a TrustRequirement, got ${describeValue(trust)}`,
    );
  }
  return trust;
}
