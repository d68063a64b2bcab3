import { mkdir, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Replaces a small file so that a crash leaves either the old content or the new one: a temp
 * file (mode 0600) is written and fsynced, renamed over the target, and the folder (created
 * with mode 0700 if missing) is fsynced so the rename itself survives a power loss. Each step is
 * awaited, so the thread is not blocked: the sync position is written after every batch, where
 * two fsyncs on the main thread would hold up every call's answer and audio.
 */
export async function writeFileDurably(path: string, text: string): Promise<void> {
  const folder = dirname(path);
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const temp = `${path}.tmp`;
  const file = await open(temp, 'w', 0o600);
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temp, path);
  const dir = await open(folder, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
