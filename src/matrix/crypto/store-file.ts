import { createHash } from 'node:crypto';
import { chmod, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';

import { CryptoError, messageOf } from './crypto-error.js';
import { validateSnapshot, type StoreSnapshot } from './store-snapshot.js';

/** The name of the saved store inside its folder. */
export const STORE_FILE_NAME = 'crypto-store.bin';

const TEMP_SUFFIX = '.tmp';
const MAGIC = Buffer.from('VBCRYPT1', 'latin1');
const DIGEST_BYTES = 32;
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/** Makes each temp file name of this process unique. */
let tempCounter = 0;

/**
 * Encodes a snapshot as the file's bytes: a magic tag, the SHA-256 of the payload, then the
 * payload (`v8.serialize` of the snapshot). The digest turns a damaged file into a clear
 * `store_unreadable` instead of a half-restored store.
 */
export function encodeStoreFile(snapshot: StoreSnapshot): Buffer {
  // Limitation: V8 reads what older V8 versions serialised, not newer ones, so a store saved
  // under a newer Node may fail to open after a downgrade (`store_unreadable`).
  const payload = serialize(snapshot);
  const digest = createHash('sha256').update(payload).digest();
  return Buffer.concat([MAGIC, digest, payload]);
}

/** Decodes and checks the bytes of a saved store; throws CryptoError `store_unreadable`. */
export function decodeStoreFile(bytes: Buffer): StoreSnapshot {
  const header = MAGIC.length + DIGEST_BYTES;
  if (bytes.length < header || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new CryptoError('store_unreadable', 'crypto store: saved file has no store header');
  }
  const payload = bytes.subarray(header);
  const digest = createHash('sha256').update(payload).digest();
  if (!digest.equals(bytes.subarray(MAGIC.length, header))) {
    throw new CryptoError('store_unreadable', 'crypto store: saved file fails its checksum');
  }

  let value: unknown;
  try {
    value = deserialize(payload);
  } catch (error) {
    throw new CryptoError(
      'store_unreadable',
      `crypto store: saved file cannot be decoded: ${messageOf(error)}`,
      { cause: error },
    );
  }
  return validateSnapshot(value);
}

/** Makes sure the store folder exists and only its owner can enter it (mode 0700). */
export async function prepareStoreDir(storeDir: string): Promise<void> {
  try {
    await mkdir(storeDir, { recursive: true, mode: DIR_MODE });
    await chmod(storeDir, DIR_MODE);
  } catch (error) {
    throw new CryptoError(
      'store_write_failed',
      `crypto store: storeDir ${JSON.stringify(storeDir)} cannot be prepared: ${messageOf(error)}`,
      { cause: error },
    );
  }
}

/**
 * Removes temp files a killed save left behind: they were never renamed, so were never part of
 * the store. Only while holding the folder's lock, or a live save could lose its file.
 */
export async function removeTempFiles(storeDir: string): Promise<void> {
  try {
    for (const name of await readdir(storeDir)) {
      if (name.startsWith(`${STORE_FILE_NAME}.`) && name.endsWith(TEMP_SUFFIX)) {
        await unlink(join(storeDir, name));
      }
    }
  } catch (error) {
    throw new CryptoError(
      'store_write_failed',
      `crypto store: leftover temp files cannot be removed: ${messageOf(error)}`,
      { cause: error },
    );
  }
}

/** Reads the saved store's bytes, or undefined when nothing was saved yet. */
export async function readStoreFile(storeDir: string): Promise<Buffer | undefined> {
  try {
    return await readFile(join(storeDir, STORE_FILE_NAME));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CryptoError(
      'store_unreadable',
      `crypto store: saved file cannot be read: ${messageOf(error)}`,
      { cause: error },
    );
  }
}

/**
 * Replaces the saved store with `bytes` so that a crash at any instant leaves either the old
 * file or the new one: write a temp file (mode 0600), fsync it, rename it over the store,
 * fsync the folder so the rename itself survives a power loss.
 */
export async function writeStoreFile(storeDir: string, bytes: Buffer): Promise<void> {
  tempCounter += 1;
  const target = join(storeDir, STORE_FILE_NAME);
  const temp = `${target}.${process.pid}-${tempCounter}${TEMP_SUFFIX}`;
  try {
    const file = await open(temp, 'wx', FILE_MODE);
    try {
      await file.chmod(FILE_MODE);
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, target);
    await syncDir(storeDir);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw new CryptoError(
      'store_write_failed',
      `crypto store: saving to storeDir failed: ${messageOf(error)}`,
      { cause: error },
    );
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
