import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

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

  /** Saves a token durably. */
  save(token: string): void {
    mkdirSync(dirname(this.#path), { recursive: true, mode: 0o700 });
    const temp = `${this.#path}.tmp`;
    const fd = openSync(temp, 'w', 0o600);
    try {
      writeSync(fd, token);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.#path);
  }
}
