import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

import { newAccessToken, newDeviceId } from './ids.js';
import { MatrixError } from './matrix-error.js';

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  length: number,
  options: { N: number },
) => Promise<Buffer>;

/** scrypt cost: low, since these are throwaway test accounts, but never plain text. */
const SCRYPT_COST = 1 << 12;
/** The grammar of a new user id's localpart (client-server spec, "User Identifiers"). */
const LOCALPART = /^[a-z0-9._=\-/+]+$/;

/** A device: one login of one user. */
export interface Device {
  readonly userId: string;
  readonly deviceId: string;
  /** `userId` and `deviceId` joined by a '|', the key other stores use for the device. */
  readonly key: string;
  /** The name the user gave the device, if any. */
  displayName: string | undefined;
  /** The device's current access token; a re-login with the same device id replaces it. */
  accessToken: string;
}

/** A registered user. */
export interface Account {
  readonly userId: string;
  /** The password's salt and scrypt hash; undefined when registered without a password. */
  readonly password: { readonly salt: Buffer; readonly hash: Buffer } | undefined;
  /** The profile's display name. */
  displayname: string;
  /** The profile's avatar, if any. */
  avatarUrl: string | undefined;
  /** Devices by device id. */
  readonly devices: Map<string, Device>;
}

/** Users, their devices and their access tokens. */
export class AccountStore {
  /** The server name user ids end with. */
  readonly #serverName: string;
  /** Accounts by user id. */
  readonly #accounts = new Map<string, Account>();
  /** Devices by access token. */
  readonly #tokens = new Map<string, Device>();

  constructor(serverName: string) {
    this.#serverName = serverName;
  }

  /** Registered users. */
  get size(): number {
    return this.#accounts.size;
  }

  /** The user id of a localpart on this server. */
  userIdOf(localpart: string): string {
    return `@${localpart}:${this.#serverName}`;
  }

  /** The account of `userId`, if it exists. */
  account(userId: string): Account | undefined {
    return this.#accounts.get(userId);
  }

  /** Whether `userId` names a registered user. */
  exists(userId: string): boolean {
    return this.#accounts.has(userId);
  }

  /** Checks a wanted localpart against the grammar and the users that exist. */
  checkLocalpart(localpart: string): void {
    if (localpart.length === 0 || !LOCALPART.test(localpart)) {
      throw new MatrixError(
        400,
        'M_INVALID_USERNAME',
        `'username' may only hold a-z, 0-9 and ._=-/+, got ${JSON.stringify(localpart)}`,
      );
    }
    if (this.userIdOf(localpart).length > 255) {
      throw new MatrixError(400, 'M_INVALID_USERNAME', `'username' is too long`);
    }
    if (this.#accounts.has(this.userIdOf(localpart))) {
      throw new MatrixError(400, 'M_USER_IN_USE', `The username ${localpart} is taken`);
    }
  }

  /** Creates a user; the localpart must pass `checkLocalpart`. */
  async register(localpart: string, password: string | undefined): Promise<Account> {
    const hashed = password === undefined ? undefined : await hashPassword(password);
    // Checked again after the await: another registration may have taken the name meanwhile.
    this.checkLocalpart(localpart);
    const userId = this.userIdOf(localpart);
    const account: Account = {
      userId,
      password: hashed,
      displayname: localpart,
      avatarUrl: undefined,
      devices: new Map(),
    };
    this.#accounts.set(userId, account);
    return account;
  }

  /** Whether `password` is the account's password. */
  async verifyPassword(account: Account, password: string): Promise<boolean> {
    if (account.password === undefined) return false;
    const hash = await scryptAsync(password, account.password.salt, 32, { N: SCRYPT_COST });
    return timingSafeEqual(hash, account.password.hash);
  }

  /**
   * Logs a device in: a new device, or, when `deviceId` names one of the user's devices, that
   * device with a new access token (its old token stops working). Returns the device and
   * whether it is new.
   */
  login(
    account: Account,
    deviceId: string | undefined,
    displayName: string | undefined,
  ): { device: Device; created: boolean } {
    const existing = deviceId === undefined ? undefined : account.devices.get(deviceId);
    if (existing !== undefined) {
      this.#tokens.delete(existing.accessToken);
      existing.accessToken = newAccessToken();
      if (displayName !== undefined) existing.displayName = displayName;
      this.#tokens.set(existing.accessToken, existing);
      return { device: existing, created: false };
    }

    const id = deviceId ?? newDeviceId();
    const device: Device = {
      userId: account.userId,
      deviceId: id,
      key: `${account.userId}|${id}`,
      displayName,
      accessToken: newAccessToken(),
    };
    account.devices.set(id, device);
    this.#tokens.set(device.accessToken, device);
    return { device, created: true };
  }

  /** The device an access token belongs to, if the token is live. */
  authenticate(accessToken: string): Device | undefined {
    return this.#tokens.get(accessToken);
  }

  /** Deletes a device and ends its access token. */
  removeDevice(device: Device): void {
    this.#tokens.delete(device.accessToken);
    this.#accounts.get(device.userId)?.devices.delete(device.deviceId);
  }
}

async function hashPassword(password: string): Promise<{ salt: Buffer; hash: Buffer }> {
  const salt = randomBytes(16);
  return { salt, hash: await scryptAsync(password, salt, 32, { N: SCRYPT_COST }) };
}
