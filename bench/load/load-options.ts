import { parseArgs } from 'node:util';

/** What a load run is asked to do. */
export interface LoadOptions {
  /** Calls kept up at once (`CONCURRENT_CALLS`, default 10). */
  concurrentCalls: number;
  /** Calls placed per second while there is room (`CALLS_PER_SECOND`, default 5). */
  callsPerSecond: number;
  /** Seconds of placing calls (`TEST_DURATION`, default 60). */
  durationSeconds: number;
  /** Where to write the JSON result (`--out FILE`), if anywhere. */
  out: string | undefined;
}

/** A bad variable or argument; the runner prints the message and exits 2. */
export class LoadOptionError extends Error {
  override readonly name = 'LoadOptionError';
}

export const LOAD_USAGE = `usage: npm run load -- [--out FILE]

Runs the bridge (voicebridge serve) against a development homeserver in a loopback-only network
namespace, with synthetic encrypted callers placing real WebRTC calls, and reports call setup
times, ICE handling, admin API listing times, packet loss and the media loops' tick lateness.

environment:
  CONCURRENT_CALLS   calls kept up at once (default 10)
  CALLS_PER_SECOND   calls placed per second while fewer are up (default 5)
  TEST_DURATION      seconds of placing calls (default 60)

Exit status: 0 when every target is met, 1 when one is missed (the reasons are printed), 2 for
a bad variable or argument.
`;

/** Reads the variables and arguments; throws LoadOptionError naming the bad one and its value. */
export function parseLoadOptions(
  env: Record<string, string | undefined>,
  argv: string[],
): LoadOptions | 'help' {
  let values: { out?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new LoadOptionError((error as Error).message);
  }
  if (values.help === true) return 'help';
  if (values.out === '') throw new LoadOptionError('--out must name a file, got ""');
  return {
    concurrentCalls: number(env, 'CONCURRENT_CALLS', 10, { integer: true, min: 1, max: 1_000 }),
    callsPerSecond: number(env, 'CALLS_PER_SECOND', 5, { integer: false, min: 0.1, max: 1_000 }),
    durationSeconds: number(env, 'TEST_DURATION', 60, { integer: false, min: 1, max: 86_400 }),
    out: values.out,
  };
}

function number(
  env: Record<string, string | undefined>,
  name: string,
  fallback: number,
  rule: { integer: boolean; min: number; max: number },
): number {
  const text = env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const value = Number(text.trim());
  const kind = rule.integer ? 'an integer' : 'a number';
  if (
    !/^[0-9]+(\.[0-9]+)?$/.test(text.trim()) ||
    !Number.isFinite(value) ||
    (rule.integer && !Number.isInteger(value)) ||
    value < rule.min ||
    value > rule.max
  ) {
    throw new LoadOptionError(
      `${name} must be ${kind} from ${rule.min} to ${rule.max}, got ${JSON.stringify(text)}`,
    );
  }
  return value;
}
