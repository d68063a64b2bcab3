import { DeviceId, RoomId, UserId } from '@matrix-org/matrix-sdk-crypto-wasm';

import { CryptoError, describeValue, messageOf } from './crypto-error.js';

/**
 * Builds fresh library `UserId`s for one call. The library consumes ids passed inside arrays,
 * so an array must never be reused: call this again for every call that takes one.
 */
export function userIds(users: readonly string[]): UserId[] {
  return users.map((user) => new UserId(user));
}

/** Checks a list of user ids (`@local:server`); throws `invalid_input` naming the bad entry. */
export function checkUserIds(users: unknown, field: string): string[] {
  if (!Array.isArray(users)) {
    throw new CryptoError(
      'invalid_input',
      `crypto: ${field}: expected an array of user ids, got ${describeValue(users)}`,
    );
  }
  return (users as unknown[]).map((user, i) => {
    checkUserId(user, `${field}[${i}]`);
    return user as string;
  });
}

/** Checks one user id; throws `invalid_input` naming `field`. */
export function checkUserId(user: unknown, field: string): string {
  return checkId(user, field, (text) => new UserId(text).free());
}

/** Checks a device id; throws `invalid_input` naming `field`. */
export function checkDeviceId(device: unknown, field: string): string {
  return checkId(device, field, (text) => new DeviceId(text).free());
}

/** Builds a library `RoomId`, throwing `invalid_input` naming `field` when malformed. */
export function roomIdOf(room: unknown, field: string): RoomId {
  let id: RoomId | undefined;
  checkId(room, field, (text) => {
    id = new RoomId(text);
  });
  return id as RoomId;
}

function checkId(value: unknown, field: string, parse: (text: string) => void): string {
  if (typeof value !== 'string' || value === '') {
    throw new CryptoError(
      'invalid_input',
      `crypto: ${field}: expected a Matrix id, got ${describeValue(value)}`,
    );
  }
  try {
    parse(value);
  } catch (error) {
    throw new CryptoError(
      'invalid_input',
      `crypto: ${field}: ${describeValue(value)} is not a valid id: ${messageOf(error)}`,
      { cause: error },
    );
  }
  return value;
}
