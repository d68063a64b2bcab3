import { systemClock, type Clock } from '../clock.js';
import type { SendRateLimit } from './send-rate-limiter.js';

/** Severity of a development-server log entry. */
export type DevServerLogLevel = 'info' | 'warn' | 'error';

/** The kinds of log entry the development server writes. */
export type DevServerLogEvent =
  | 'devserver_started'
  | 'devserver_stopped'
  | 'devserver_request_failed';

/** Receives the server's few log entries; it decides where they go. */
export type DevServerLog = (
  level: DevServerLogLevel,
  event: DevServerLogEvent,
  fields: Readonly<Record<string, string | number | boolean>>,
) => void;

/** Options of {@link startDevServer}. */
export interface DevServerOptions {
  /** The server name in user ids and room ids; `localhost` by default. */
  serverName?: string;
  /** The port on 127.0.0.1; 0 (the default) takes a free one. */
  port?: number;
  /** A rate limit on room sends per user; off by default. */
  rateLimit?: SendRateLimit;
  /** Where log entries go; nowhere by default. */
  log?: DevServerLog;
  /** The clock for timestamps, ages and rate limits; the system clock by default. */
  clock?: Clock;
}

/** Options with every default filled in. */
export interface ResolvedDevServerOptions {
  readonly serverName: string;
  readonly port: number;
  readonly rateLimit: SendRateLimit | undefined;
  readonly log: DevServerLog;
  readonly clock: Clock;
}

/** The log callback, made unable to break the server: what it throws is dropped. */
function guarded(log: DevServerLog): DevServerLog {
  return (level, event, fields) => {
    try {
      log(level, event, fields);
    } catch {
      // A broken log sink must not fail a request or a start; there is nowhere to report it.
    }
  };
}

/** A server name: a host name or IP literal, with an optional port. */
const SERVER_NAME = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,253}))(?::\d{1,5})?$/;

/** Checks options and fills in defaults; a bad option is a TypeError naming it and its value. */
export function resolveDevServerOptions(options: DevServerOptions): ResolvedDevServerOptions {
  const serverName = options.serverName ?? 'localhost';
  if (typeof serverName !== 'string' || !SERVER_NAME.test(serverName)) {
    throw new TypeError(`serverName must be a host name, got ${JSON.stringify(serverName)}`);
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new TypeError(`port must be an integer from 0 to 65535, got ${String(port)}`);
  }
  const rateLimit = options.rateLimit;
  if (rateLimit !== undefined) {
    const { messagesPerSecond, burst } = rateLimit;
    if (!Number.isFinite(messagesPerSecond) || messagesPerSecond <= 0) {
      throw new TypeError(
        `rateLimit.messagesPerSecond must be a number above 0, got ${String(messagesPerSecond)}`,
      );
    }
    if (!Number.isInteger(burst) || burst < 1) {
      throw new TypeError(`rateLimit.burst must be an integer of at least 1, got ${String(burst)}`);
    }
  }
  if (options.log !== undefined && typeof options.log !== 'function') {
    throw new TypeError('log must be a function');
  }
  if (options.clock !== undefined && typeof options.clock !== 'function') {
    throw new TypeError('clock must be a function');
  }
  return {
    serverName,
    port,
    rateLimit: rateLimit === undefined ? undefined : { ...rateLimit },
    log: options.log === undefined ? () => undefined : guarded(options.log),
    clock: options.clock ?? systemClock,
  };
}
