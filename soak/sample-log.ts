import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

import { SAMPLES_FILE, type SoakRecord } from './soak-record.js';

/**
 * Appends records to a run's samples.jsonl, one line each, written through at once so that a
 * crash or `kill -9` loses at most the line being written.
 */
export class SampleLog {
  readonly path: string;
  #fd: number | undefined;

  constructor(dir: string) {
    this.path = join(dir, SAMPLES_FILE);
    this.#fd = openSync(this.path, 'a', 0o644);
  }

  /** Writes one record as a line. */
  append(record: SoakRecord): void {
    if (this.#fd === undefined) throw new Error(`${this.path} is closed`);
    writeSync(this.#fd, `${JSON.stringify(record)}\n`);
  }

  /** Flushes to disk and closes; idempotent. */
  close(): void {
    if (this.#fd === undefined) return;
    fsyncSync(this.#fd);
    closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/** Raised when a run folder cannot be read back. */
export class SampleReadError extends Error {
  constructor(
    readonly code: 'missing' | 'empty',
    message: string,
  ) {
    super(message);
    this.name = 'SampleReadError';
  }
}

/**
 * Reads every record of a run folder. A torn last line (the process died while writing it) and
 * lines that are not records are skipped and counted.
 */
export function readSamples(dir: string): { records: SoakRecord[]; skippedLines: number } {
  const path = join(dir, SAMPLES_FILE);
  if (!existsSync(path)) {
    throw new SampleReadError('missing', `no ${SAMPLES_FILE} in ${dir}: not a soak run folder`);
  }
  const records: SoakRecord[] = [];
  let skippedLines = 0;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const value = JSON.parse(line) as unknown;
      if (isRecord(value)) records.push(value);
      else skippedLines += 1;
    } catch {
      skippedLines += 1;
    }
  }
  if (records.length === 0) throw new SampleReadError('empty', `${path} holds no records`);
  return { records, skippedLines };
}

const KINDS = new Set(['start', 'sample', 'call', 'snapshot', 'phase', 'end']);

function isRecord(value: unknown): value is SoakRecord {
  if (typeof value !== 'object' || value === null) return false;
  const { kind, at } = value as { kind?: unknown; at?: unknown };
  if (typeof kind !== 'string' || !KINDS.has(kind) || typeof at !== 'number') return false;
  if (kind === 'sample') {
    const s = value as { threads?: unknown; resources?: unknown; elapsed?: unknown };
    return (
      Array.isArray(s.threads) && typeof s.resources === 'object' && typeof s.elapsed === 'number'
    );
  }
  return true;
}
