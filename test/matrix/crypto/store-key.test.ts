import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { loadOrCreateStoreKey, parseStoreKey } from '../../../src/matrix/crypto/store-key.js';
import { cleanup, makeTempDir } from './fixtures/parties.js';

let dir: string;

beforeEach(async () => {
  dir = await makeTempDir();
});

afterEach(async () => {
  await cleanup(dir);
});

describe('the store key file', () => {
  it('is created at first start, readable by its owner only, and read back the same', async () => {
    const keyFile = join(dir, 'secrets', 'crypto-store.key');

    const created = await loadOrCreateStoreKey(keyFile);
    const again = await loadOrCreateStoreKey(keyFile);

    expect(created).toHaveLength(32);
    expect(again).toEqual(created);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect((await readFile(keyFile, 'utf8')).trim()).toBe(Buffer.from(created).toString('base64'));
    expect(await readdir(join(dir, 'secrets'))).toEqual(['crypto-store.key']);
  });

  it('gives every concurrent first start the same key', async () => {
    const keyFile = join(dir, 'crypto-store.key');

    const keys = await Promise.all(Array.from({ length: 5 }, () => loadOrCreateStoreKey(keyFile)));

    for (const key of keys) expect(key).toEqual(keys[0]);
  });

  it('refuses a key file that others can read', async () => {
    const keyFile = join(dir, 'crypto-store.key');
    await loadOrCreateStoreKey(keyFile);
    await chmod(keyFile, 0o644);

    await expect(loadOrCreateStoreKey(keyFile)).rejects.toMatchObject({
      code: 'key_file_invalid',
      message: expect.stringContaining('mode 644') as unknown,
    });
  });

  it('refuses a key file that does not hold 32 bytes of base64', async () => {
    const keyFile = join(dir, 'crypto-store.key');
    await writeFile(keyFile, 'c2hvcnQ=\n', { mode: 0o600 });

    await expect(loadOrCreateStoreKey(keyFile)).rejects.toMatchObject({
      code: 'key_file_invalid',
      message: expect.stringContaining('key file: expected 32 bytes in base64') as unknown,
    });
  });
});

describe('a store key from configuration', () => {
  it('decodes padded and unpadded base64', () => {
    const key = Buffer.alloc(32, 7);

    expect(parseStoreKey(key.toString('base64'))).toEqual(new Uint8Array(key));
    expect(parseStoreKey(key.toString('base64').replace(/=+$/, ''))).toEqual(new Uint8Array(key));
  });

  it('names the field and never echoes a long value', () => {
    expect(() => parseStoreKey('x'.repeat(40), 'matrix.store_key')).toThrow(
      'matrix.store_key: expected 32 bytes in base64, got 40 characters',
    );
  });
});
