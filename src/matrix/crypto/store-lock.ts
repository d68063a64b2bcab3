import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

import { CryptoError, messageOf } from './crypto-error.js';

/** The lock file's name inside the store folder. */
export const LOCK_FILE_NAME = 'crypto-store.lock';

/**
 * Claims the store folder for this process: two processes saving one device's store would
 * overwrite each other's keys and sessions. The lock file holds the owner's pid; a lock whose
 * process is gone (killed, crashed) is taken over. Throws CryptoError `store_in_use`.
 */
export async function lockStoreDir(storeDir: string): Promise<void> {
  const path = join(storeDir, LOCK_FILE_NAME);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const file = await open(path, 'wx', 0o600);
      await file.writeFile(`${process.pid}\n`);
      await file.close();
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new CryptoError(
          'store_write_failed',
          `crypto store: cannot lock storeDir: ${messageOf(error)}`,
          { cause: error },
        );
      }
    }

    const owner = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isSafeInteger(owner) && owner > 0 && isAlive(owner)) {
      throw new CryptoError('store_in_use', `crypto store: storeDir is in use by process ${owner}`);
    }
    // Limitation: two processes taking over the same stale lock at the same instant can both
    // succeed; the lock guards against a second start by mistake, not against a race.
    await unlink(path).catch(() => undefined);
  }
  throw new CryptoError('store_in_use', 'crypto store: storeDir lock keeps changing hands');
}

/** Releases the folder, if this process holds it. */
export async function unlockStoreDir(storeDir: string): Promise<void> {
  const path = join(storeDir, LOCK_FILE_NAME);
  const owner = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
  if (owner === process.pid) await unlink(path).catch(() => undefined);
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
