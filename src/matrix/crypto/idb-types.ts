/**
 * The part of the IndexedDB API this layer uses, typed here because the project compiles
 * without the DOM library. fake-indexeddb implements it; its own typings lean on DOM types.
 */

/** A pending IndexedDB operation. */
export interface IdbRequest<T> {
  readonly result: T;
  readonly error: unknown;
  onsuccess: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  addEventListener(type: string, listener: (event: unknown) => void): void;
}

/** A pending open, which may need a schema upgrade first. */
export interface IdbOpenRequest extends IdbRequest<IdbDatabase> {
  onupgradeneeded: ((event: unknown) => void) | null;
  onblocked: ((event: unknown) => void) | null;
  /** The versionchange transaction while an upgrade runs. */
  readonly transaction: IdbTransaction | null;
}

/** The names of a database's object stores or of a store's indexes. */
export interface IdbNameList extends Iterable<string> {
  readonly length: number;
}

/** One index of an object store. */
export interface IdbIndex {
  readonly name: string;
  readonly keyPath: string | string[];
  readonly unique: boolean;
  readonly multiEntry: boolean;
}

/** An object store inside a transaction. */
export interface IdbObjectStore {
  readonly name: string;
  readonly keyPath: string | string[] | null;
  readonly autoIncrement: boolean;
  readonly indexNames: IdbNameList;
  index(name: string): IdbIndex;
  createIndex(
    name: string,
    keyPath: string | string[],
    options: { unique: boolean; multiEntry: boolean },
  ): IdbIndex;
  getAll(): IdbRequest<unknown[]>;
  getAllKeys(): IdbRequest<unknown[]>;
  put(value: unknown, key?: unknown): IdbRequest<unknown>;
}

/** A transaction over one or more object stores. */
export interface IdbTransaction {
  readonly error: unknown;
  oncomplete: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onabort: ((event: unknown) => void) | null;
  objectStore(name: string): IdbObjectStore;
  abort(): void;
}

/** An open connection to one database. */
export interface IdbDatabase {
  readonly name: string;
  readonly version: number;
  readonly objectStoreNames: IdbNameList;
  transaction(storeNames: string | string[], mode?: string): IdbTransaction;
  createObjectStore(
    name: string,
    options: { keyPath: string | string[] | null; autoIncrement: boolean },
  ): IdbObjectStore;
  close(): void;
}

/** The factory behind `indexedDB`. */
export interface IdbFactory {
  open(name: string, version?: number): IdbOpenRequest;
  deleteDatabase(name: string): IdbOpenRequest;
  databases(): Promise<{ name?: string; version?: number }[]>;
}

/** Settles with a request's result, or rejects with its error. */
export function requestDone<T>(request: IdbRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(asError(request.error));
  });
}

/** Settles when a transaction commits, or rejects when it aborts or fails. */
export function transactionDone(transaction: IdbTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(asError(transaction.error));
    transaction.onabort = () => reject(asError(transaction.error ?? 'transaction aborted'));
  });
}

function asError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : 'IndexedDB request failed');
}
