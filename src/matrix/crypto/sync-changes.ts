import { CryptoError, describeValue } from './crypto-error.js';
import { checkUserIds } from './matrix-ids.js';

/** Device list changes from a sync response (`device_lists`). */
export interface DeviceListChanges {
  changed?: string[];
  left?: string[];
}

/** The crypto parts of a sync response, checked and in the shapes the library takes. */
export interface SyncChanges {
  toDeviceJson: string;
  changed: string[];
  left: string[];
  oneTimeKeyCounts: Map<string, number>;
  unusedFallbackKeyTypes: Set<string> | undefined;
}

/** Checks the crypto parts of a sync response; throws `invalid_input` naming the bad field. */
export function checkSyncChanges(
  toDeviceEvents: unknown,
  deviceLists: DeviceListChanges,
  oneTimeKeyCounts: Record<string, number>,
  unusedFallbackKeyTypes: string[] | undefined,
): SyncChanges {
  if (!Array.isArray(toDeviceEvents)) {
    throw new CryptoError(
      'invalid_input',
      `receiveSyncChanges: toDeviceEvents: expected an array, got ${describeValue(toDeviceEvents)}`,
    );
  }

  const counts = new Map<string, number>();
  for (const [algorithm, count] of Object.entries(oneTimeKeyCounts)) {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new CryptoError(
        'invalid_input',
        `receiveSyncChanges: oneTimeKeyCounts.${algorithm}: expected a count, got ` +
          describeValue(count),
      );
    }
    counts.set(algorithm, count);
  }

  return {
    toDeviceJson: JSON.stringify(toDeviceEvents),
    changed: checkUserIds(deviceLists.changed ?? [], 'deviceLists.changed'),
    left: checkUserIds(deviceLists.left ?? [], 'deviceLists.left'),
    oneTimeKeyCounts: counts,
    unusedFallbackKeyTypes:
      unusedFallbackKeyTypes === undefined
        ? undefined
        : new Set(checkNames(unusedFallbackKeyTypes, 'unusedFallbackKeyTypes')),
  };
}

/** Checks a list of non-empty strings; throws `invalid_input` naming `field`. */
export function checkNames(values: unknown, field: string): string[] {
  if (!Array.isArray(values) || !values.every((value) => typeof value === 'string' && value)) {
    throw new CryptoError(
      'invalid_input',
      `crypto: ${field}: expected non-empty strings, got ${describeValue(values)}`,
    );
  }
  return values as string[];
}
