import { CryptoError, describeValue } from './crypto-error.js';
import {
  requestDone,
  transactionDone,
  type IdbDatabase,
  type IdbFactory,
  type IdbObjectStore,
} from './idb-types.js';

/** One index of an object store, as saved. */
export interface IndexSnapshot {
  name: string;
  keyPath: string | string[];
  unique: boolean;
  multiEntry: boolean;
}

/** One object store: its schema and every record, keys and values in the same order. */
export interface ObjectStoreSnapshot {
  name: string;
  keyPath: string | string[] | null;
  autoIncrement: boolean;
  indexes: IndexSnapshot[];
  keys: unknown[];
  values: unknown[];
}

/** One database of a store, named by what follows the store's prefix. */
export interface DatabaseSnapshot {
  suffix: string;
  version: number;
  objectStores: ObjectStoreSnapshot[];
}

/** Every database of one crypto store at one moment. */
export interface StoreSnapshot {
  databases: DatabaseSnapshot[];
}

/**
 * Reads every database whose name starts with `prefix`, each in one read-only transaction
 * over all of its object stores. The caller makes sure no crypto call runs meanwhile, so the
 * databases agree with each other as well.
 */
export async function readSnapshot(factory: IdbFactory, prefix: string): Promise<StoreSnapshot> {
  const names = (await factory.databases())
    .map((info) => info.name)
    .filter((name): name is string => name !== undefined && name.startsWith(prefix))
    .sort();

  const databases: DatabaseSnapshot[] = [];
  for (const name of names) {
    const db = await requestDone(factory.open(name));
    try {
      databases.push(await readDatabase(db, name.slice(prefix.length)));
    } finally {
      db.close();
    }
  }
  return { databases };
}

async function readDatabase(db: IdbDatabase, suffix: string): Promise<DatabaseSnapshot> {
  const storeNames = [...db.objectStoreNames];
  const snapshot: DatabaseSnapshot = { suffix, version: db.version, objectStores: [] };
  if (storeNames.length === 0) return snapshot;

  const transaction = db.transaction(storeNames, 'readonly');
  const done = transactionDone(transaction);
  const reads = storeNames.map((name) => readObjectStore(transaction.objectStore(name)));
  snapshot.objectStores = await Promise.all(reads);
  await done;
  return snapshot;
}

async function readObjectStore(store: IdbObjectStore): Promise<ObjectStoreSnapshot> {
  const indexes = [...store.indexNames].map((name): IndexSnapshot => {
    const index = store.index(name);
    return {
      name,
      keyPath: index.keyPath,
      unique: index.unique,
      multiEntry: index.multiEntry,
    };
  });
  // Records with inline keys carry their key in the value, so only out-of-line keys are kept.
  const [keys, values] = await Promise.all([
    store.keyPath === null ? requestDone(store.getAllKeys()) : Promise.resolve([]),
    requestDone(store.getAll()),
  ]);
  return {
    name: store.name,
    keyPath: store.keyPath,
    autoIncrement: store.autoIncrement,
    indexes,
    keys,
    values,
  };
}

/**
 * Recreates a snapshot's databases under `prefix`, each at its saved version, schema and
 * records written in the one upgrade transaction that creates it, so a database is either
 * whole or absent. The names must not exist yet.
 */
export async function writeSnapshot(
  factory: IdbFactory,
  prefix: string,
  snapshot: StoreSnapshot,
): Promise<void> {
  for (const database of snapshot.databases) {
    const request = factory.open(prefix + database.suffix, database.version);
    request.onupgradeneeded = () => {
      const transaction = request.transaction;
      if (transaction === null) return;
      for (const saved of database.objectStores) {
        const store = request.result.createObjectStore(saved.name, {
          keyPath: saved.keyPath,
          autoIncrement: saved.autoIncrement,
        });
        for (const index of saved.indexes) {
          store.createIndex(index.name, index.keyPath, {
            unique: index.unique,
            multiEntry: index.multiEntry,
          });
        }
        const inlineKeys = saved.keyPath !== null;
        for (let i = 0; i < saved.values.length; i += 1) {
          if (inlineKeys) store.put(saved.values[i]);
          else store.put(saved.values[i], saved.keys[i]);
        }
      }
    };
    const db = await requestDone(request);
    db.close();
  }
}

/** Checks that a decoded value has the shape of a snapshot; throws `store_unreadable`. */
export function validateSnapshot(value: unknown): StoreSnapshot {
  const root = record(value, 'snapshot');
  const databases = list(root.databases, 'databases').map((item, i) => {
    const field = `databases[${i}]`;
    const database = record(item, field);
    const version = database.version;
    if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
      throw unreadable(`${field}.version`, version);
    }
    const objectStores = list(database.objectStores, `${field}.objectStores`).map((store, j) =>
      validateObjectStore(store, `${field}.objectStores[${j}]`),
    );
    return { suffix: text(database.suffix, `${field}.suffix`), version, objectStores };
  });
  return { databases };
}

function validateObjectStore(value: unknown, field: string): ObjectStoreSnapshot {
  const store = record(value, field);
  const keys = list(store.keys, `${field}.keys`);
  const values = list(store.values, `${field}.values`);
  if (store.keyPath === null && keys.length !== values.length) {
    throw unreadable(`${field}.keys`, keys.length);
  }
  if (typeof store.autoIncrement !== 'boolean') {
    throw unreadable(`${field}.autoIncrement`, store.autoIncrement);
  }
  const indexes = list(store.indexes, `${field}.indexes`).map((item, k) => {
    const index = record(item, `${field}.indexes[${k}]`);
    if (typeof index.unique !== 'boolean' || typeof index.multiEntry !== 'boolean') {
      throw unreadable(`${field}.indexes[${k}]`, index);
    }
    return {
      name: text(index.name, `${field}.indexes[${k}].name`),
      keyPath: keyPath(index.keyPath, `${field}.indexes[${k}].keyPath`),
      unique: index.unique,
      multiEntry: index.multiEntry,
    };
  });
  return {
    name: text(store.name, `${field}.name`),
    keyPath: store.keyPath === null ? null : keyPath(store.keyPath, `${field}.keyPath`),
    autoIncrement: store.autoIncrement,
    indexes,
    keys,
    values,
  };
}

function record(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw unreadable(field, value);
  }
  return value as Record<string, unknown>;
}

function list(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw unreadable(field, value);
  return value as unknown[];
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string') throw unreadable(field, value);
  return value;
}

function keyPath(value: unknown, field: string): string | string[] {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((part) => typeof part === 'string')) {
    return value;
  }
  throw unreadable(field, value);
}

function unreadable(field: string, value: unknown): CryptoError {
  return new CryptoError(
    'store_unreadable',
    `crypto store: saved ${field} is malformed: ${describeValue(value)}`,
  );
}
