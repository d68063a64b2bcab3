import { mkdtempSync, rmSync } from 'node:fs';

import { afterAll } from 'vitest';

/** Makes temporary folders for one test file and removes them once its tests are done. */
export function scratchFolders(): (prefix: string) => string {
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });
  return (prefix) => {
    const dir = mkdtempSync(prefix);
    made.push(dir);
    return dir;
  };
}
