import {
  CollectStrategy,
  DecryptionSettings,
  DeviceId,
  DeviceLists,
  EncryptionSettings,
  OlmMachine,
  TrustRequirement,
  UserId,
} from '@matrix-org/matrix-sdk-crypto-wasm';

import {
  checkOptions,
  type BridgeCryptoOptions,
  type IdentityKeys,
} from './bridge-crypto-options.js';
import {
  toDecryptedRoomEvent,
  toReceivedEvent,
  undecryptable,
  validateEvent,
  type DecryptedRoomEvent,
  type ReceivedToDeviceEvent,
} from './crypto-events.js';
import { CryptoError, describeValue, messageOf } from './crypto-error.js';
import {
  requestTypeOf,
  toCryptoRequest,
  type CryptoRequestKind,
  type OutgoingCryptoRequest,
} from './crypto-request.js';
import { CryptoStore, type CryptoStoreStats } from './crypto-store.js';
import { checkUserIds, roomIdOf, userIds } from './matrix-ids.js';
import { RequestFlight, settleAll } from './request-flight.js';
import { SerialQueue } from './serial-queue.js';
import { checkNames, checkSyncChanges, type DeviceListChanges } from './sync-changes.js';

const MACHINE_LOCK = 'machine';

/**
 * End-to-end encryption for one Matrix device: an OlmMachine over a store saved to disk.
 *
 * Every OlmMachine call that changes keys or sessions runs alone, in one queue with the store's
 * saves (a save is only correct while none runs), and each is followed by a save before its
 * result is handed back: requests to send, to-device changes from a sync (so the sync token may
 * be acknowledged only after `receiveSyncChanges` resolves), and encrypted events. A crash
 * therefore never restores a device older than what left the process. Decryption and the
 * missing-session lookup run beside that queue (see `#besideQueue`).
 *
 * After a restart the members of each room are forgotten: call `ensureRoomKeys` again before
 * `encrypt`.
 */
export class BridgeCrypto {
  /** This device's user id. */
  readonly userId: string;
  /** This device's id. */
  readonly deviceId: string;
  /** This device's public identity keys. */
  readonly identityKeys: IdentityKeys;
  /** The library's state machine. */
  #machine: OlmMachine;
  /** Where the machine's state lives and is saved. */
  #store: CryptoStore;
  /** Requests being sent, so none goes out twice at once. */
  #flight: RequestFlight;
  /** Trust asked of senders when decrypting. */
  #trust: TrustRequirement;
  /** One queue for the machine (key `machine`), one per room for sharing keys and encrypting. */
  #queues = new SerialQueue<string>();
  /** Keys claims run one at a time, as the library asks. */
  #claims = new SerialQueue<string>();
  /** Users handed to `updateTrackedUsers` since open. */
  #tracked = new Set<string>();
  /** Calls running beside the machine queue, for `close` to wait for. */
  #beside = new Set<Promise<unknown>>();
  /** The one-time key counts and fallback key types last fed to the machine, as a key. */
  #lastKeyCounts: string | undefined;
  /** Machine calls queued and not yet started. */
  #queuedMachineCalls = 0;
  /** The save the calls run since the last save wait for, if any. */
  #pendingSave: PendingSave | undefined;
  /** Each room's members, as last given to `ensureRoomKeys`. */
  #members = new Map<string, string[]>();
  /** Set once `close` began, and settles when it is done: new work is refused. */
  #closing: Promise<void> | undefined;
  /** True once the machine is closed: no call may reach it. */
  #closed = false;

  private constructor(
    options: BridgeCryptoOptions,
    trust: TrustRequirement,
    machine: OlmMachine,
    store: CryptoStore,
  ) {
    this.userId = options.userId;
    this.deviceId = options.deviceId;
    this.#machine = machine;
    this.#store = store;
    this.#flight = new RequestFlight(options.send, (request, response) =>
      request.id === '' ? Promise.resolve() : this.#markSent(request, response),
    );
    this.#trust = trust;
    const keys = machine.identityKeys;
    this.identityKeys = {
      curve25519: keys.curve25519.toBase64(),
      ed25519: keys.ed25519.toBase64(),
    };
  }

  /**
   * Opens the device's store (restoring it from `storeDir`, or creating a new identity on first
   * start) and saves it at once, so the identity is on disk before anything is sent.
   */
  static async open(options: BridgeCryptoOptions): Promise<BridgeCrypto> {
    const trust = checkOptions(options);
    const store = await CryptoStore.open(options.storeDir, options.key);
    let machine: OlmMachine;
    try {
      machine = await OlmMachine.initFromStore(
        new UserId(options.userId),
        new DeviceId(options.deviceId),
        store.handle,
      );
    } catch (error) {
      await store.close();
      throw new CryptoError(
        'store_key_mismatch',
        `crypto: the store does not hold device ${options.deviceId} of ${options.userId}: ` +
          messageOf(error),
        { cause: error },
      );
    }

    const crypto = new BridgeCrypto(options, trust, machine, store);
    try {
      await crypto.#machineCall(() => Promise.resolve(), true);
    } catch (error) {
      machine.close();
      await store.close();
      throw error;
    }
    return crypto;
  }

  /**
   * Feeds the crypto parts of a sync response to the machine: to-device events (room keys
   * among them), device list changes, one-time key counts (missing algorithms count as zero)
   * and unused fallback key types. Resolves once the new state is saved: only then may the
   * sync token be acknowledged.
   *
   * A sync with nothing new for the crypto (no to-device events, no device list changes, and the
   * same key counts as last time) is not fed at all: the library would still load its account
   * and the store would be saved whole, a few milliseconds of the one crypto queue per sync that
   * every encryption waits behind.
   */
  async receiveSyncChanges(
    toDeviceEvents: unknown[],
    deviceLists: DeviceListChanges = {},
    oneTimeKeyCounts: Record<string, number> = {},
    unusedFallbackKeyTypes?: string[],
  ): Promise<ReceivedToDeviceEvent[]> {
    this.#assertOpen();
    const changes = checkSyncChanges(
      toDeviceEvents,
      deviceLists,
      oneTimeKeyCounts,
      unusedFallbackKeyTypes,
    );

    const keyCounts = JSON.stringify([
      [...changes.oneTimeKeyCounts].sort(([a], [b]) => a.localeCompare(b)),
      changes.unusedFallbackKeyTypes === undefined
        ? null
        : [...changes.unusedFallbackKeyTypes].sort(),
    ]);
    const nothingNew =
      changes.toDeviceJson === '[]' &&
      changes.changed.length === 0 &&
      changes.left.length === 0 &&
      keyCounts === this.#lastKeyCounts;
    if (nothingNew) return [];

    for (const user of changes.left) this.#tracked.delete(user);
    const processed = await this.#machineCall(
      (machine) =>
        machine.receiveSyncChanges(
          changes.toDeviceJson,
          new DeviceLists(userIds(changes.changed), userIds(changes.left)),
          changes.oneTimeKeyCounts,
          changes.unusedFallbackKeyTypes,
          new DecryptionSettings(this.#trust),
        ),
      true,
    );
    this.#lastKeyCounts = keyCounts;
    return processed.map(toReceivedEvent);
  }

  /**
   * The requests the machine wants sent now, saved first so that whatever they reveal (new
   * one-time keys, room keys) is on disk before it can leave. Requests already being sent by
   * `sendOutgoingRequests` are left out. Report each one back with `markRequestAsSent`.
   */
  async outgoingRequests(): Promise<OutgoingCryptoRequest[]> {
    this.#assertOpen();
    const requests = await this.#machineCall((machine) => machine.outgoingRequests(), true);
    return requests.map(toCryptoRequest).filter((request) => !this.#flight.has(request.id));
  }

  /** Hands the homeserver's response to a sent request back to the machine, then saves. */
  async markRequestAsSent(
    id: string,
    type: CryptoRequestKind,
    responseBody: string,
  ): Promise<void> {
    this.#assertOpen();
    requestTypeOf(type);
    if (typeof id !== 'string' || id === '') {
      throw new CryptoError(
        'invalid_input',
        `markRequestAsSent: id: expected a request id, got ${describeValue(id)}`,
      );
    }
    if (typeof responseBody !== 'string') {
      throw new CryptoError(
        'invalid_input',
        `markRequestAsSent: responseBody: expected JSON text, got ${describeValue(responseBody)}`,
      );
    }
    await this.#markSent({ id, kind: type }, responseBody);
  }

  /**
   * Sends every outgoing request through `send` and reports the responses back, and waits for
   * requests another caller is already sending. Throws CryptoError `request_failed` if any
   * send failed; the failed ones are offered again next time.
   */
  async sendOutgoingRequests(): Promise<void> {
    this.#assertOpen();
    await this.#sendOutgoing();
  }

  /** `sendOutgoingRequests` without the open check, for flows already under way. */
  async #sendOutgoing(): Promise<void> {
    const pending = this.#flight.running();
    const requests = await this.#machineCall((machine) => machine.outgoingRequests(), true);
    for (const request of requests.map(toCryptoRequest)) pending.push(this.#flight.send(request));
    await settleAll(pending);
  }

  /**
   * Makes sure every device of `members` can read what this device encrypts next in `roomId`:
   * tracks the members, fetches their device keys, claims one-time keys for devices without an
   * Olm session, and shares the room key (sending those to-device messages). Remembers the
   * members for `encrypt`. Runs one at a time per room.
   */
  async ensureRoomKeys(roomId: string, members: string[]): Promise<void> {
    roomIdOf(roomId, 'roomId').free();
    const users = checkUserIds(members, 'members');
    this.#assertOpen();
    await this.#queues.run(`room:${roomId}`, async () => {
      this.#members.set(roomId, [...users]);
      await this.#shareRoomKey(roomId, users);
    });
  }

  /**
   * Encrypts an event for `roomId` and returns the `m.room.encrypted` content to send. The
   * room key is shared first (a no-op unless members, their devices or the key's rotation
   * changed), in the same per-room turn, because encrypting without a current room key
   * aborts the whole process. The new ratchet state is saved before the content is returned.
   * Throws `room_not_prepared` if `ensureRoomKeys` never ran for the room.
   */
  async encrypt(
    roomId: string,
    eventType: string,
    content: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    roomIdOf(roomId, 'roomId').free();
    checkNames([eventType], 'eventType');
    validateEvent({ type: eventType, content }, 'event');
    this.#assertOpen();

    return this.#queues.run(`room:${roomId}`, async () => {
      const members = this.#members.get(roomId);
      if (members === undefined) {
        throw new CryptoError(
          'room_not_prepared',
          `encrypt: roomId ${roomId}: call ensureRoomKeys with the room's members first`,
        );
      }
      await this.#shareRoomKey(roomId, members);
      const encrypted = await this.#machineCall(
        (machine) =>
          machine.encryptRoomEvent(roomIdOf(roomId, 'roomId'), eventType, JSON.stringify(content)),
        true,
      );
      return JSON.parse(encrypted) as Record<string, unknown>;
    });
  }

  /**
   * Decrypts a room event. An event that is not `m.room.encrypted` comes back unchanged with
   * `encrypted: false`. Throws CryptoError `undecryptable` with the library's `reason` when the
   * keys are not here (yet): keep the event and retry after the next to-device keys arrive.
   */
  async decrypt(roomEvent: unknown, roomId: string): Promise<DecryptedRoomEvent> {
    this.#assertOpen();
    const event = validateEvent(roomEvent, 'roomEvent');
    roomIdOf(roomId, 'roomId').free();
    if (event.type !== 'm.room.encrypted') return { event, encrypted: false };

    const decrypted = await this.#besideQueue(async (machine) => {
      try {
        return await machine.decryptRoomEvent(
          JSON.stringify(event),
          roomIdOf(roomId, 'roomId'),
          new DecryptionSettings(this.#trust),
        );
      } catch (error) {
        throw undecryptable(error, roomId);
      }
    });

    return toDecryptedRoomEvent(event, decrypted);
  }

  /** Figures about the store's saves and restore, for metrics. */
  storeStats(): CryptoStoreStats {
    return this.#store.stats();
  }

  /**
   * Waits for queued work, saves a last time, and closes the machine and the store. Calls
   * after this throw CryptoError `closed`.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await Promise.allSettled(this.#flight.running());
    await this.#queues.idle();
    await Promise.allSettled([...this.#beside]);
    try {
      await this.#queues.run(MACHINE_LOCK, () => this.#store.save());
    } finally {
      this.#closed = true;
      this.#machine.close();
      await this.#store.close();
    }
  }

  /** Tracks, queries, claims and shares; the caller holds the room's turn. */
  async #shareRoomKey(roomId: string, members: string[]): Promise<void> {
    // Tracking rewrites the store even when nothing changes, which would cost a full save per
    // event: only users not yet tracked since open are passed.
    const untracked = members.filter((member) => !this.#tracked.has(member));
    if (untracked.length > 0) {
      await this.#machineCall((machine) => machine.updateTrackedUsers(userIds(untracked)), false);
      for (const member of untracked) this.#tracked.add(member);
    }
    await this.#sendOutgoing();

    await this.#claims.run('claim', async () => {
      // The lookup waits up to 5 s for a pending keys query of each user, so it runs beside the
      // queue, where the query's response can still be marked meanwhile. A user with no known
      // device (their server failed the query) has nothing to claim and is left out.
      const claim = await this.#besideQueue(async (machine) => {
        const known = await usersWithDevices(machine, members);
        return known.length === 0 ? undefined : machine.getMissingSessions(userIds(known));
      });
      if (claim === undefined || claim === null) return;
      await this.#flight.send(toCryptoRequest(claim));
    });

    const shares = await this.#machineCall((machine) => {
      const settings = new EncryptionSettings();
      settings.sharingStrategy = CollectStrategy.allDevices();
      return machine.shareRoomKey(roomIdOf(roomId, 'roomId'), userIds(members), settings);
    }, true);
    await settleAll(shares.map((share) => this.#flight.send(toCryptoRequest(share))));
  }

  /** Reports a response to the machine and saves what it changed. */
  async #markSent(
    request: { id: string; kind: CryptoRequestKind },
    responseBody: string,
  ): Promise<void> {
    const type = requestTypeOf(request.kind);
    await this.#machineCall(
      (machine) => machine.markRequestAsSent(request.id, type, responseBody),
      true,
    );
  }

  /**
   * Runs one machine call with no other machine call or save running; if `save`, its result is
   * handed back only once a save that covers it is on disk. Saves are shared: while more machine
   * calls wait in the queue, a call leaves the save to the turn after it, and the last turn of
   * the run saves once for all of them (a save writes the whole store, so one covers every
   * change before it). A failed save fails every call it was to cover, so no result leaves.
   */
  #machineCall<T>(call: (machine: OlmMachine) => Promise<T>, save: boolean): Promise<T> {
    this.#queuedMachineCalls += 1;
    let covered: Promise<void> | undefined;
    const turn = this.#queues.run(MACHINE_LOCK, async () => {
      this.#queuedMachineCalls -= 1;
      if (this.#closed) {
        await this.#saveIfLast();
        throw new CryptoError('closed', 'crypto: closed');
      }
      let result: T;
      try {
        result = await call(this.#machine);
      } catch (error) {
        await this.#saveIfLast();
        if (error instanceof CryptoError) throw error;
        throw new CryptoError('library_error', `crypto: ${messageOf(error)}`, { cause: error });
      }
      if (save) covered = this.#nextSave();
      await this.#saveIfLast();
      return result;
    });
    return turn.then(async (result) => {
      await covered;
      return result;
    });
  }

  /** A promise of the next save, shared by every call waiting for it. */
  #nextSave(): Promise<void> {
    this.#pendingSave ??= pendingSave();
    return this.#pendingSave.promise;
  }

  /** Inside a machine turn: saves for the calls waiting, unless another turn comes next. */
  async #saveIfLast(): Promise<void> {
    const pending = this.#pendingSave;
    if (pending === undefined || this.#queuedMachineCalls > 0) return;
    this.#pendingSave = undefined;
    try {
      await this.#store.save();
      pending.resolve();
    } catch (error) {
      pending.reject(error);
    }
  }

  /**
   * Runs a call beside the machine queue and its saves. Only for calls that change nothing a
   * peer or the server relies on: decryption (an incoming call event must not wait behind key
   * sharing) and the missing-session lookup (which can wait seconds for a keys query). Both
   * were seen to write nothing to the store; should they write, each write is one IndexedDB
   * transaction, which a save's read transaction takes whole or not at all, and a write after a
   * save began leaves the store dirty for the next save.
   */
  #besideQueue<T>(call: (machine: OlmMachine) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new CryptoError('closed', 'crypto: closed'));
    const running = call(this.#machine).catch((error: unknown) => {
      if (error instanceof CryptoError) throw error;
      throw new CryptoError('library_error', `crypto: ${messageOf(error)}`, { cause: error });
    });
    this.#beside.add(running);
    void running.finally(() => this.#beside.delete(running)).catch(() => undefined);
    return running;
  }

  #assertOpen(): void {
    if (this.#closing !== undefined) throw new CryptoError('closed', 'crypto: closed');
  }
}

/** A save some calls wait for, and how to settle it. */
interface PendingSave {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function pendingSave(): PendingSave {
  let resolve: () => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const promise = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  // Its waiters see a failure; the promise itself is never left unhandled.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** The members this device knows at least one device of, without waiting for key queries. */
async function usersWithDevices(machine: OlmMachine, members: string[]): Promise<string[]> {
  const known: string[] = [];
  for (const member of members) {
    const devices = await machine.getUserDevices(new UserId(member));
    if (devices.keys().length > 0) known.push(member);
    devices.free();
  }
  return known;
}
