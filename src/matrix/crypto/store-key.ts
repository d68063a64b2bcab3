import { randomBytes, randomUUID } from 'node:crypto';
import { link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

import { CryptoError, describeValue, messageOf } from './crypto-error.js';

/** Bytes in a store key: the crypto library takes exactly 32. */
export const STORE_KEY_BYTES = 32;

const KEY_TEXT = /^[A-Za-z0-9+/]{43}=?$/;

/**
 * Reads the store key from `keyFile`, creating the file with a fresh random key (mode 0600)
 * on first start.
 *
 * Why a key file, and why a key rather than a passphrase: the store file holds the device's
 * private keys encrypted under this key, so the key must live somewhere the store file does
 * not. Keep the key file outside `storeDir` (beside the configuration, or on a secrets
 * mount): a backup or a stray copy of the store folder then holds only ciphertext. A random
 * 32-byte key has full strength as it is, so it needs no key derivation, which for a
 * passphrase costs about 200 ms at every start. An operator who keeps secrets in the
 * configuration instead passes the same base64 text through `parseStoreKey`.
 *
 * Throws CryptoError `key_file_invalid` when the file is malformed or readable by anyone but
 * its owner.
 */
export async function loadOrCreateStoreKey(keyFile: string): Promise<Uint8Array> {
  const existing = await readKeyFile(keyFile);
  if (existing !== undefined) return existing;

  const created = await createKeyFile(keyFile);
  if (created !== undefined) return created;

  // Another process created it between the read and the write.
  const raced = await readKeyFile(keyFile);
  if (raced !== undefined) return raced;
  throw new CryptoError(
    'key_file_invalid',
    `crypto store: key file ${JSON.stringify(keyFile)} vanished`,
  );
}

/** Reads and checks an existing key file; undefined when there is none. */
async function readKeyFile(keyFile: string): Promise<Uint8Array | undefined> {
  let text: string;
  try {
    const info = await stat(keyFile);
    if ((info.mode & 0o077) !== 0) {
      throw new CryptoError(
        'key_file_invalid',
        `crypto store: key file ${JSON.stringify(keyFile)} has mode ` +
          `${(info.mode & 0o777).toString(8)}; it must be readable by its owner only (0600)`,
      );
    }
    text = await readFile(keyFile, 'utf8');
  } catch (error) {
    if (error instanceof CryptoError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CryptoError(
      'key_file_invalid',
      `crypto store: key file ${JSON.stringify(keyFile)} cannot be read: ${messageOf(error)}`,
      { cause: error },
    );
  }
  return parseStoreKey(text.trim(), 'key file');
}

/** Decodes a store key written as base64 (43 characters, optional padding). */
export function parseStoreKey(text: string, field = 'key'): Uint8Array {
  if (!KEY_TEXT.test(text)) {
    throw new CryptoError(
      'key_file_invalid',
      `crypto store: ${field}: expected ${STORE_KEY_BYTES} bytes in base64, got ` +
        (text.length > 8 ? `${text.length} characters` : describeValue(text)),
    );
  }
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/**
 * Writes a new key file unless one exists; returns the new key, or undefined if it existed.
 * The key is written to a temp file first and hard-linked into place, which fails rather than
 * replaces when the file exists, so a crash never leaves a half-written key file behind.
 */
async function createKeyFile(keyFile: string): Promise<Uint8Array | undefined> {
  const temp = `${keyFile}.${randomUUID()}.tmp`;
  try {
    await mkdir(dirname(keyFile), { recursive: true, mode: 0o700 });
    const key = randomBytes(STORE_KEY_BYTES);
    const file = await open(temp, 'w', 0o600);
    try {
      await file.chmod(0o600);
      await file.writeFile(`${key.toString('base64')}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
    await link(temp, keyFile);
    const folder = await open(dirname(keyFile), 'r');
    await folder.sync().finally(() => folder.close());
    return new Uint8Array(key);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw new CryptoError(
      'key_file_invalid',
      `crypto store: key file ${JSON.stringify(keyFile)} cannot be created: ${messageOf(error)}`,
      { cause: error },
    );
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}
