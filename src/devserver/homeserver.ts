import type { Clock } from '../clock.js';
import { AccountDataStore } from './account-data.js';
import { AccountStore, type Device } from './accounts.js';
import { DeviceKeyStore } from './device-keys.js';
import { FilterStore } from './filters.js';
import { limitExceeded } from './matrix-error.js';
import { Notifier } from './notifier.js';
import { RoomDirectory } from './room-directory.js';
import { SendRateLimiter, type SendRateLimit } from './send-rate-limiter.js';
import { StreamCounter } from './stream-token.js';
import { ToDeviceInbox } from './to-device-inbox.js';
import { TransactionCache } from './transaction-cache.js';

/** What the in-memory homeserver is made with. */
export interface HomeserverSettings {
  /** The server name in user ids, room ids and aliases. */
  readonly serverName: string;
  /** Where event timestamps, ages and rate limits take the time from. */
  readonly clock: Clock;
  /** The rate limit of room sends per user, or undefined for none. */
  readonly sendRateLimit: SendRateLimit | undefined;
}

/**
 * All the state of the development homeserver, in memory: accounts, rooms, account data,
 * keys, to-device inboxes, filters and transaction answers, and the one stream of positions
 * that orders every change. The HTTP layer reads and changes it; nothing here knows HTTP.
 */
export class Homeserver {
  /** The server name in user ids, room ids and aliases. */
  readonly serverName: string;
  /** Time for timestamps, ages and the rate limit. */
  readonly clock: Clock;
  /** The positions every change takes, and the source of sync tokens. */
  readonly stream = new StreamCounter();
  /** Wakes the long-polling syncs a change concerns. */
  readonly notifier = new Notifier();
  /** Users, devices and access tokens. */
  readonly accounts: AccountStore;
  /** Global and per-room account data. */
  readonly accountData = new AccountDataStore();
  /** Rooms, aliases and events. */
  readonly rooms: RoomDirectory;
  /** End-to-end keys and device-list changes. */
  readonly keys = new DeviceKeyStore();
  /** To-device messages not yet acknowledged. */
  readonly inbox = new ToDeviceInbox();
  /** Sync filters. */
  readonly filters = new FilterStore();
  /** Answers to requests with transaction ids. */
  readonly transactions = new TransactionCache();
  /** The room-send rate limit; undefined when sends are not limited. */
  readonly #sendLimiter: SendRateLimiter | undefined;

  constructor(settings: HomeserverSettings) {
    this.serverName = settings.serverName;
    this.clock = settings.clock;
    this.accounts = new AccountStore(settings.serverName);
    this.rooms = new RoomDirectory({
      stream: this.stream,
      clock: settings.clock,
      notifier: this.notifier,
    });
    this.#sendLimiter =
      settings.sendRateLimit === undefined
        ? undefined
        : new SendRateLimiter(settings.sendRateLimit);
  }

  /**
   * Notes that a user's device list changed (a device came, went, or changed its keys) and
   * wakes the syncs of everyone who shares a room with them, who must hear of it.
   */
  deviceListChanged(userId: string): void {
    this.keys.recordChange(userId, this.stream.next());
    this.notifier.notify(this.rooms.usersSharingRoomWith(userId));
  }

  /** Takes a room-send token for `userId`, or throws M_LIMIT_EXCEEDED with the wait. */
  takeSendToken(userId: string): void {
    const wait = this.#sendLimiter?.take(userId, this.clock()) ?? 0;
    if (wait > 0) throw limitExceeded(wait);
  }

  /** Deletes a device with everything held for it: token, keys, inbox, transactions. */
  removeDevice(device: Device): void {
    this.accounts.removeDevice(device);
    this.keys.removeDevice(device.key);
    this.inbox.removeDevice(device.key);
    this.transactions.removeDevice(device.key);
    this.deviceListChanged(device.userId);
  }
}
