import { readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { pino } from 'pino';

import type { CommandIo } from '../audit/report-command.js';
import { ConfigError } from '../config/load.js';
import { policyVersion } from '../config/policy-version.js';
import { SecurityLog } from '../telemetry/security-log.js';
import { checkDevOverrides } from './dev-config.js';
import { startDevStack, type DevStack } from './dev-stack.js';

/** The page's port when none is given. */
const DEFAULT_PORT = 9480;
/** The longest a shutdown may take before the process gives up waiting and exits 1. */
const SHUTDOWN_LIMIT_MS = 20_000;

const USAGE = `usage: voicebridge dev [--port N] [--data DIR] [--config FILE]

Runs a development homeserver (HTTPS, in memory), the bridge with the echo agent, and a web
page on http://127.0.0.1:N/ that calls the bridge from your browser with your microphone,
through an encrypted Matrix room. All on loopback; development only.

  --port N        the page's port on 127.0.0.1 (default ${DEFAULT_PORT}; 0 takes a free one)
  --data DIR      keep the audit store in DIR (default: a temporary folder, removed at exit)
  --config FILE   settings over the development defaults; any section but [matrix] and
                  audit.path, which the development stack sets itself

SIGINT or SIGTERM: hang up, stop the bridge and the homeserver, exit 0.
`;

/** True when `path` is a folder, or nothing yet (it will be made). */
function isFolderOrAbsent(path: string): boolean {
  if (path === '') return false;
  try {
    return statSync(path).isDirectory();
  } catch {
    return true;
  }
}

/** The options of `voicebridge dev`, checked. */
interface DevArgs {
  port: number;
  data: string | undefined;
  config: string | undefined;
}

/** Parses the command line. */
function parseDevArgs(args: string[]): DevArgs | { help: true } | { error: string } {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        port: { type: 'string' },
        data: { type: 'string' },
        config: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return { error: (error as Error).message };
  }
  if (values.help) return { help: true };
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!/^\d+$/.test(values.port ?? '0') || !Number.isInteger(port) || port > 65_535) {
    return {
      error: `--port must be an integer from 0 to 65535, got ${JSON.stringify(values.port)}`,
    };
  }
  if (values.data !== undefined && !isFolderOrAbsent(values.data)) {
    return { error: `--data must name a folder, got ${JSON.stringify(values.data)}` };
  }
  return { port, data: values.data, config: values.config };
}

/**
 * `voicebridge dev`: resolves with the exit code once everything has stopped: 0 after a
 * clean shutdown, 1 when starting or stopping failed, 2 for a bad command line or config.
 */
export async function dev(args: string[], io: CommandIo): Promise<number> {
  const parsed = parseDevArgs(args);
  if ('help' in parsed) {
    io.stdout(USAGE);
    return 0;
  }
  if ('error' in parsed) {
    io.stderr(`voicebridge dev: ${parsed.error}\n${USAGE}`);
    return 2;
  }

  let overrides;
  if (parsed.config !== undefined) {
    try {
      overrides = { text: readFileSync(parsed.config, 'utf8'), source: parsed.config };
    } catch (error) {
      io.stderr(`voicebridge dev: --config ${parsed.config}: ${(error as Error).message}\n`);
      return 2;
    }
  }

  let level;
  try {
    level = checkDevOverrides(overrides).log.level;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(`${error.message}\n${error.problems.length} error(s): not starting\n`);
    return 2;
  }
  const logger = pino({ level, base: { component: 'dev' } });
  // Listening before anything starts: a signal that comes while the stack starts (or just as
  // its address is printed) stops it once it is up, rather than killing the process outright.
  const signals = new SignalLatch();
  let stack: DevStack;
  try {
    stack = await startDevStack({
      dataDir: parsed.data,
      overrides,
      port: parsed.port,
      logger,
      security: SecurityLog.create(level),
    });
  } catch (error) {
    signals.close();
    if (error instanceof ConfigError) {
      io.stderr(`${error.message}\n${error.problems.length} error(s): not starting\n`);
      return 2;
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      io.stderr(`voicebridge dev: port ${parsed.port} is in use on 127.0.0.1; try --port 0\n`);
      return 1;
    }
    io.stderr(`voicebridge dev: could not start: ${String(error)}\n`);
    return 1;
  }

  const demo = [...stack.callers.values()][0];
  io.stdout(
    [
      '',
      `voicebridge dev: open ${stack.pageUrl} and press Call`,
      `  homeserver  ${stack.homeserver.url} (in memory, development only)`,
      `  bridge      ${stack.botUserId}, policy ${policyVersion(stack.config.voice)}`,
      `  caller      ${demo?.userId ?? '(none)'} in ${demo?.roomId ?? '(none)'} (encrypted)`,
      `  admin       ${stack.bridge.admin?.url ?? '(off)'} (also at ${stack.pageUrl}api/ and ${stack.pageUrl}metrics)`,
      `  audit       ${stack.config.audit.path}${parsed.data === undefined ? ' (removed at exit; --data DIR keeps it)' : ''}`,
      '  Ctrl-C stops everything.',
      '',
      '',
    ].join('\n'),
  );

  const signal = await signals.first;
  signals.close();
  logger.info({ event: 'dev_stopping', signal }, 'stopping');
  let overrun: NodeJS.Timeout | undefined;
  const limit = new Promise<number>((resolve) => {
    overrun = setTimeout(() => {
      logger.error({ event: 'dev_stop_overran', limit_ms: SHUTDOWN_LIMIT_MS }, 'overran');
      resolve(1);
    }, SHUTDOWN_LIMIT_MS);
  });
  const stopped = stack.stop().then(
    () => {
      logger.info({ event: 'dev_stopped' }, 'stopped');
      return 0;
    },
    (error: unknown) => {
      logger.error({ event: 'dev_stop_failed', error: String(error) }, 'stop failed');
      return 1;
    },
  );
  const code = await Promise.race([stopped, limit]);
  clearTimeout(overrun);
  return code;
}

/** Catches SIGTERM and SIGINT from the moment it is made; `first` is the first to come. */
class SignalLatch {
  readonly first: Promise<string>;
  readonly #listeners: Array<[NodeJS.Signals, () => void]> = [];

  constructor() {
    this.first = new Promise((resolve) => {
      for (const name of ['SIGTERM', 'SIGINT'] as const) {
        const listener = (): void => resolve(name);
        this.#listeners.push([name, listener]);
        process.on(name, listener);
      }
    });
  }

  /** Stops listening. */
  close(): void {
    for (const [name, listener] of this.#listeners.splice(0)) process.off(name, listener);
  }
}
