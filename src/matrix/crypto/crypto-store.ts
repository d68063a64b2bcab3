import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';

import { initAsync, StoreHandle } from '@matrix-org/matrix-sdk-crypto-wasm';

import { CryptoError, describeValue, messageOf } from './crypto-error.js';
import { requestDone } from './idb-types.js';
import { installLibraryIndexedDb, type LibraryIndexedDb } from './library-indexeddb.js';
import { STORE_KEY_BYTES } from './store-key.js';
import { lockStoreDir, unlockStoreDir } from './store-lock.js';
import {
  decodeStoreFile,
  encodeStoreFile,
  prepareStoreDir,
  readStoreFile,
  removeTempFiles,
  writeStoreFile,
} from './store-file.js';
import { readSnapshot, writeSnapshot } from './store-snapshot.js';

/** Figures about a store's saves, for metrics. */
export interface CryptoStoreStats {
  /** Saves written to disk since open. */
  saves: number;
  /** Save points that found nothing new and wrote nothing. */
  savesSkipped: number;
  /** Size of the last file written, or of the file restored if none was written yet. */
  fileBytes: number;
  /** Wall time of the last save, milliseconds. */
  lastSaveMs: number;
  /** Wall time of restoring the saved databases at open, milliseconds (0 for a new store). */
  restoreMs: number;
}

/** Folders open in this process: two stores over one folder would overwrite each other. */
const openDirs = new Set<string>();

/**
 * The crypto library's IndexedDB store, kept in memory and saved to one file in `storeDir`.
 *
 * The library writes through IndexedDB as it goes; this class copies all of the store's
 * databases to disk at save points the owner chooses. A save is only correct when taken
 * while no OlmMachine call that changes keys or sessions runs, and must come before anything
 * that depends on the new state leaves the process (see BridgeCrypto). Saving on a timer instead would let a crash restore
 * a device older than what the server and peers have already seen.
 *
 * The store is opened with a 32-byte key kept outside the saved file (see
 * `loadOrCreateStoreKey`), so the file holds the account's private keys only encrypted.
 */
export class CryptoStore {
  /** The folder holding the saved file. */
  readonly storeDir: string;
  /** The name the crypto library's databases carry in memory; fresh at every open. */
  readonly storeName: string;
  /** The IndexedDB the library runs on. */
  #idb: LibraryIndexedDb;
  /** The library's handle on the opened store. */
  #handle: StoreHandle;
  /** The store's write count when the file on disk last matched memory. */
  #savedWrites: number;
  /** Counters for `stats`. */
  #stats: CryptoStoreStats;
  /** True once closed. */
  #closed = false;

  private constructor(
    storeDir: string,
    storeName: string,
    idb: LibraryIndexedDb,
    handle: StoreHandle,
    savedWrites: number,
    stats: CryptoStoreStats,
  ) {
    this.storeDir = storeDir;
    this.storeName = storeName;
    this.#idb = idb;
    this.#handle = handle;
    this.#savedWrites = savedWrites;
    this.#stats = stats;
  }

  /**
   * Opens the store in `storeDir` (created with mode 0700 if missing), restoring the saved
   * databases at their saved versions before the library sees them. Throws CryptoError
   * `invalid_input`, `store_in_use`, `store_unreadable` or `store_key_mismatch`.
   */
  static async open(storeDir: string, key: Uint8Array): Promise<CryptoStore> {
    if (typeof storeDir !== 'string' || storeDir === '') {
      throw new CryptoError(
        'invalid_input',
        `crypto store: storeDir: expected a folder path, got ${describeValue(storeDir)}`,
      );
    }
    if (!(key instanceof Uint8Array) || key.length !== STORE_KEY_BYTES) {
      throw new CryptoError(
        'invalid_input',
        `crypto store: key: expected ${STORE_KEY_BYTES} bytes, got ${describeValue(key)}`,
      );
    }
    const dir = resolve(storeDir);
    if (openDirs.has(dir)) {
      throw new CryptoError('store_in_use', 'crypto store: storeDir is already open');
    }
    openDirs.add(dir);

    try {
      return await CryptoStore.#open(dir, key);
    } catch (error) {
      openDirs.delete(dir);
      throw error;
    }
  }

  static async #open(dir: string, key: Uint8Array): Promise<CryptoStore> {
    await initAsync();
    const idb = installLibraryIndexedDb();
    await prepareStoreDir(dir);
    await lockStoreDir(dir);
    try {
      return await CryptoStore.#openLocked(dir, key, idb);
    } catch (error) {
      await unlockStoreDir(dir);
      throw error;
    }
  }

  static async #openLocked(
    dir: string,
    key: Uint8Array,
    idb: LibraryIndexedDb,
  ): Promise<CryptoStore> {
    await removeTempFiles(dir);
    const storeName = `voicebridge-crypto-${randomUUID()}`;
    const stats: CryptoStoreStats = {
      saves: 0,
      savesSkipped: 0,
      fileBytes: 0,
      lastSaveMs: 0,
      restoreMs: 0,
    };

    const bytes = await readStoreFile(dir);
    if (bytes !== undefined) {
      const started = performance.now();
      await writeSnapshot(idb.factory, storeName, decodeStoreFile(bytes));
      stats.restoreMs = performance.now() - started;
      stats.fileBytes = bytes.length;
    }
    // A new store has never been saved; a restored one matches its file until the library writes.
    const savedWrites = bytes === undefined ? -1 : idb.writes(storeName);

    let handle: StoreHandle;
    try {
      handle = await StoreHandle.openWithKey(storeName, key);
    } catch (error) {
      await deleteDatabases(idb, storeName);
      throw new CryptoError(
        'store_key_mismatch',
        `crypto store: the saved store does not open with this key: ${messageOf(error)}`,
        { cause: error },
      );
    }
    return new CryptoStore(dir, storeName, idb, handle, savedWrites, stats);
  }

  /** The library's handle, for `OlmMachine.initFromStore`. */
  get handle(): StoreHandle {
    this.#assertOpen();
    return this.#handle;
  }

  /** True when the library has written something since the last save. */
  get dirty(): boolean {
    return this.#idb.writes(this.storeName) !== this.#savedWrites;
  }

  /** Figures about saves and the restore, for metrics. */
  stats(): CryptoStoreStats {
    return { ...this.#stats };
  }

  /**
   * Saves the store to disk if the library wrote anything since the last save (or always, with
   * `force`). The caller guarantees that no OlmMachine call that changes keys or sessions runs
   * until this settles. Resolves once the file is durable; throws CryptoError
   * `store_write_failed`, after which the old file is still intact and nothing that depends on
   * the new state may leave the process.
   */
  async save(force = false): Promise<void> {
    this.#assertOpen();
    const writes = this.#idb.writes(this.storeName);
    if (!force && writes === this.#savedWrites) {
      this.#stats.savesSkipped += 1;
      return;
    }

    const started = performance.now();
    const bytes = encodeStoreFile(await readSnapshot(this.#idb.factory, this.storeName));
    await writeStoreFile(this.storeDir, bytes);
    this.#savedWrites = writes;
    this.#stats.saves += 1;
    this.#stats.fileBytes = bytes.length;
    this.#stats.lastSaveMs = performance.now() - started;
  }

  /**
   * Drops the in-memory databases and releases the folder. Call after the OlmMachine that used
   * the store is closed, and after a final save: unsaved changes are lost by design.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#handle.free();
    await deleteDatabases(this.#idb, this.storeName);
    await unlockStoreDir(this.storeDir);
    openDirs.delete(this.storeDir);
  }

  #assertOpen(): void {
    if (this.#closed) throw new CryptoError('closed', 'crypto store: the store is closed');
  }
}

async function deleteDatabases(idb: LibraryIndexedDb, prefix: string): Promise<void> {
  const names = (await idb.factory.databases())
    .map((info) => info.name)
    .filter((name): name is string => name !== undefined && name.startsWith(prefix));
  for (const name of names) await deleteDatabase(idb, name);
  idb.forget(prefix);
}

/**
 * Deletes one database. If a connection is still open (the library failed half-way through
 * opening and kept it) the deletion waits for it to close: do not wait for that here.
 */
function deleteDatabase(idb: LibraryIndexedDb, name: string): Promise<void> {
  const request = idb.factory.deleteDatabase(name);
  return new Promise((resolve, reject) => {
    request.onblocked = () => resolve();
    requestDone(request).then(() => resolve(), reject);
  });
}
