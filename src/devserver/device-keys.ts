import { canonicalJson, describeValue, type JsonObject } from './json-input.js';
import { invalidParam } from './matrix-error.js';

/** A fallback key and whether a claim has handed it out since it was uploaded. */
interface FallbackKey {
  readonly keyId: string;
  readonly key: unknown;
  used: boolean;
}

/** The algorithm of a key id such as `signed_curve25519:AAAAHQ`. */
function algorithmOf(keyId: string): string {
  return keyId.slice(0, keyId.indexOf(':'));
}

/** Checks every key id of an upload has the `algorithm:id` form; `field` names the upload. */
export function checkKeyIds(keys: JsonObject, field: string): void {
  for (const keyId of Object.keys(keys)) {
    if (keyId.indexOf(':') <= 0 || keyId.endsWith(':')) {
      throw invalidParam(`'${field}' key ids must be 'algorithm:id', got ${describeValue(keyId)}`);
    }
  }
}

/**
 * End-to-end encryption keys of every device: the device keys, the one-time keys waiting to
 * be claimed, one fallback key per algorithm, and when each user's device list last changed.
 * Devices are named by their key, `userId|deviceId`.
 *
 * Limitation: signatures are stored and handed out as uploaded, never verified; real servers
 * do not verify them either beyond the uploader's own, which clients check anyway.
 */
export class DeviceKeyStore {
  /** Device keys by device. */
  readonly #deviceKeys = new Map<string, JsonObject>();
  /** Unclaimed one-time keys by device, then by key id, in upload order. */
  readonly #oneTimeKeys = new Map<string, Map<string, unknown>>();
  /** Fallback keys by device, then by algorithm. */
  readonly #fallbackKeys = new Map<string, Map<string, FallbackKey>>();
  /** Stream position of the last change of each user's device list. */
  readonly #lastChange = new Map<string, number>();

  /** Stores a device's keys; returns whether they differ from what was stored. */
  setDeviceKeys(deviceKey: string, keys: JsonObject): boolean {
    const previous = this.#deviceKeys.get(deviceKey);
    this.#deviceKeys.set(deviceKey, keys);
    return previous === undefined || canonicalJson(previous) !== canonicalJson(keys);
  }

  /** A device's keys, if it uploaded any. */
  deviceKeys(deviceKey: string): JsonObject | undefined {
    return this.#deviceKeys.get(deviceKey);
  }

  /**
   * Adds one-time keys. A key id already held with other contents is refused (whole upload,
   * nothing stored), as re-using a key id would let two senders think they hold one key.
   */
  addOneTimeKeys(deviceKey: string, keys: JsonObject): void {
    checkKeyIds(keys, 'one_time_keys');
    const held = this.#oneTimeKeys.get(deviceKey) ?? new Map<string, unknown>();
    for (const [keyId, key] of Object.entries(keys)) {
      const old = held.get(keyId);
      if (old !== undefined && canonicalJson(old) !== canonicalJson(key)) {
        throw invalidParam(`one-time key ${keyId} already exists with other contents`);
      }
    }
    for (const [keyId, key] of Object.entries(keys)) held.set(keyId, key);
    this.#oneTimeKeys.set(deviceKey, held);
  }

  /** Replaces the fallback key of each algorithm in `keys`; a new key starts unused. */
  setFallbackKeys(deviceKey: string, keys: JsonObject): void {
    checkKeyIds(keys, 'fallback_keys');
    const held = this.#fallbackKeys.get(deviceKey) ?? new Map<string, FallbackKey>();
    for (const [keyId, key] of Object.entries(keys)) {
      const algorithm = algorithmOf(keyId);
      const old = held.get(algorithm);
      if (old?.keyId === keyId && canonicalJson(old.key) === canonicalJson(key)) continue;
      held.set(algorithm, { keyId, key, used: false });
    }
    this.#fallbackKeys.set(deviceKey, held);
  }

  /** Unclaimed one-time keys per algorithm; `signed_curve25519` is always there. */
  oneTimeKeyCounts(deviceKey: string): Record<string, number> {
    const counts: Record<string, number> = { signed_curve25519: 0 };
    for (const keyId of this.#oneTimeKeys.get(deviceKey)?.keys() ?? []) {
      const algorithm = algorithmOf(keyId);
      counts[algorithm] = (counts[algorithm] ?? 0) + 1;
    }
    return counts;
  }

  /** Algorithms whose fallback key has not been handed out yet. */
  unusedFallbackKeyTypes(deviceKey: string): string[] {
    const types: string[] = [];
    for (const [algorithm, fallback] of this.#fallbackKeys.get(deviceKey) ?? []) {
      if (!fallback.used) types.push(algorithm);
    }
    return types;
  }

  /**
   * Claims a key of `algorithm`: the oldest one-time key, which is removed, or else the
   * fallback key, which stays and is marked used. Undefined when the device has neither.
   */
  claim(deviceKey: string, algorithm: string): Record<string, unknown> | undefined {
    const held = this.#oneTimeKeys.get(deviceKey);
    for (const [keyId, key] of held ?? []) {
      if (algorithmOf(keyId) !== algorithm) continue;
      held?.delete(keyId);
      return { [keyId]: key };
    }
    const fallback = this.#fallbackKeys.get(deviceKey)?.get(algorithm);
    if (fallback === undefined) return undefined;
    fallback.used = true;
    return { [fallback.keyId]: fallback.key };
  }

  /** Forgets everything about a device. */
  removeDevice(deviceKey: string): void {
    this.#deviceKeys.delete(deviceKey);
    this.#oneTimeKeys.delete(deviceKey);
    this.#fallbackKeys.delete(deviceKey);
  }

  /** Notes that a user's device list changed at stream position `position`. */
  recordChange(userId: string, position: number): void {
    this.#lastChange.set(userId, position);
  }

  /**
   * Whether a user's device list changed after `after`. Only the last change is kept, so for
   * a range that ends before now the answer may be yes for a change made later; for device
   * lists that is harmless (clients query the keys again), where a missed change is not.
   */
  changedAfter(userId: string, after: number): boolean {
    return (this.#lastChange.get(userId) ?? 0) > after;
  }
}
