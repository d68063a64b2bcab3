import type { LogLevel } from 'node-datachannel';

import { guardCallback } from './native-callback.js';
import { initLogger } from './native-library.js';

/** Marks the process once the library's logger is installed (it is process-wide). */
const INSTALLED = Symbol.for('voicebridge.transport.logger');

/** The library's log levels, most verbose first. */
export type TransportLogLevel = LogLevel;

/**
 * Routes the native library's own log lines to `sink`, at `level` and above. Only the first
 * call in a process does anything (the library keeps one logger per process); it returns
 * whether this call installed it. What the sink throws is dropped: it runs as a native
 * callback, where a throw aborts the process.
 *
 * Limitation: the installed logger keeps the event loop referenced until the library's
 * `cleanup()` runs, so a process that installs it must end with `process.exit()` or call
 * `cleanup()` at exit.
 */
export function installTransportLogger(
  level: TransportLogLevel,
  sink: (level: TransportLogLevel, message: string) => void,
): boolean {
  const registry = globalThis as { [INSTALLED]?: true };
  if (registry[INSTALLED] === true) return false;
  registry[INSTALLED] = true;

  initLogger(
    level,
    guardCallback(sink, () => undefined),
  );
  return true;
}
