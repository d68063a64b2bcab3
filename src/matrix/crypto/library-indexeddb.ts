import * as fakeIndexedDb from 'fake-indexeddb';

import { CryptoError } from './crypto-error.js';
import type { IdbDatabase, IdbFactory, IdbOpenRequest } from './idb-types.js';

/** The in-memory IndexedDB the crypto library runs on, and a count of its writes. */
export interface LibraryIndexedDb {
  /** The factory installed as `indexedDB`; only this layer and the crypto library use it. */
  readonly factory: IdbFactory;
  /**
   * How many read-write transactions (and schema upgrades) have started on the databases whose
   * names start with `prefix`. A store whose count has not moved since its last save has
   * nothing new to save.
   */
  writes(prefix: string): number;
  /** Drops the counts of databases under `prefix`, once they are deleted. */
  forget(prefix: string): void;
}

/** The constructors fake-indexeddb exports, seen through this layer's typings. */
interface FakeIndexedDbModule {
  IDBFactory: new () => IdbFactory;
  IDBKeyRange: unknown;
  IDBCursor: unknown;
  IDBCursorWithValue: unknown;
  IDBDatabase: unknown;
  IDBOpenDBRequest: unknown;
  IDBRequest: unknown;
}

/** Read-write transactions started, by database name. */
type WriteCounter = Map<string, number>;

/**
 * Where the installation is kept: on the global object, so that a second copy of this module in
 * the same process (a test runner re-evaluating modules, say) finds it rather than refusing it.
 */
const INSTALLED = Symbol.for('voicebridge.matrix.crypto.indexeddb');

/**
 * Gives the crypto library an IndexedDB. Its wasm bindings look IndexedDB up as free global
 * names, so these must be on `globalThis`; nothing narrower reaches them. To pollute as little
 * as possible, only the seven names the bindings use are defined (`indexedDB`, `IDBKeyRange`,
 * and the five classes they test with `instanceof`), as non-enumerable properties, and
 * `indexedDB` is a private factory rather than fake-indexeddb's shared default, so other code
 * that imports fake-indexeddb never sees the crypto databases. Installing twice is a no-op;
 * a different IndexedDB already present is refused rather than replaced.
 */
export function installLibraryIndexedDb(): LibraryIndexedDb {
  const global = globalThis as Record<string | symbol, unknown>;
  const existing = global[INSTALLED] as LibraryIndexedDb | undefined;
  if (existing !== undefined) return existing;

  const lib = fakeIndexedDb as unknown as FakeIndexedDbModule;
  const counter: WriteCounter = new Map();
  const factory = countingFactory(new lib.IDBFactory(), counter);
  const names: Record<string, unknown> = {
    indexedDB: factory,
    IDBKeyRange: lib.IDBKeyRange,
    IDBCursor: lib.IDBCursor,
    IDBCursorWithValue: lib.IDBCursorWithValue,
    IDBDatabase: lib.IDBDatabase,
    IDBOpenDBRequest: lib.IDBOpenDBRequest,
    IDBRequest: lib.IDBRequest,
  };
  const taken = Object.keys(names).filter((name) => global[name] !== undefined);
  if (taken.length > 0) {
    throw new CryptoError(
      'indexeddb_conflict',
      `crypto store: another IndexedDB is already installed in this process (${taken.join(', ')})`,
    );
  }
  for (const [name, value] of Object.entries(names)) {
    Object.defineProperty(globalThis, name, {
      value,
      enumerable: false,
      configurable: true,
      writable: false,
    });
  }

  const writes = (prefix: string): number => {
    let total = 0;
    for (const [name, started] of counter) if (name.startsWith(prefix)) total += started;
    return total;
  };
  const forget = (prefix: string): void => {
    for (const name of [...counter.keys()]) if (name.startsWith(prefix)) counter.delete(name);
  };
  const installed: LibraryIndexedDb = { factory, writes, forget };
  Object.defineProperty(globalThis, INSTALLED, { value: installed, enumerable: false });
  return installed;
}

/**
 * Wraps a factory so that every connection it opens counts its read-write transactions.
 * The count is taken when a transaction starts, so a save that begins afterwards either
 * includes its writes (IndexedDB orders a read after earlier overlapping writes) or sees the
 * count moved and saves again next time.
 */
function countingFactory(factory: IdbFactory, counter: WriteCounter): IdbFactory {
  const open = factory.open.bind(factory);
  const counted = (name: string, version?: number): IdbOpenRequest => {
    const request = version === undefined ? open(name) : open(name, version);
    request.addEventListener('upgradeneeded', () => count(counter, name));
    request.addEventListener('success', () => countWrites(request.result, counter));
    return request;
  };
  Object.defineProperty(factory, 'open', { value: counted, enumerable: false, writable: false });
  return factory;
}

function countWrites(db: IdbDatabase, counter: WriteCounter): void {
  const transaction = db.transaction.bind(db);
  const counted = (storeNames: string | string[], mode?: string) => {
    if (mode !== undefined && mode !== 'readonly') count(counter, db.name);
    return transaction(storeNames, mode);
  };
  Object.defineProperty(db, 'transaction', { value: counted, enumerable: false, writable: false });
}

function count(counter: WriteCounter, name: string): void {
  counter.set(name, (counter.get(name) ?? 0) + 1);
}
