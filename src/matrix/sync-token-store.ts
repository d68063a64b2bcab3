import { readFileSync } from 'node:fs';

import { writeFileDurably } from './durable-file.js';

/**
 * Where the sync position survives a restart: one small file, replaced atomically (temp file,
 * fsync, rename), mode 0600. A restart resumes from the last batch the bridge finished
 * handling, so it neither replays old calls nor skips new ones.
 */
export class SyncTokenStore {
  readonly #path: string;

  constructor(path: string) {
    this.#path = path;
  }

  /** The saved token, or undefined on a first start. */
  load(): string | undefined {
    try {
      const token = readFileSync(this.#path, 'utf8').trim();
      return token === '' ? undefined : token;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Saves a token durably; resolves once it is on disk. The thread is not blocked meanwhile. */
  save(token: string): Promise<void> {
    return writeFileDurably(this.#path, token);
  }
}
