#!/usr/bin/env node
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { pino } from 'pino';

import { AuditStore } from './audit/audit-store.js';
import { runReportCommand, type CommandIo } from './audit/report-command.js';
import { buildSecurityReport, formatSecurityReport } from './audit/security-report.js';
import { ConfigError, formatEffectiveConfig, loadConfigFile, parseConfig } from './config/load.js';
import { policyVersion } from './config/policy-version.js';
import { dev } from './dev/dev-command.js';
import { missingForServe, serve } from './serve.js';
import { runPolicySimulation } from './simulation/policy-simulation.js';
import { SecurityLog } from './telemetry/security-log.js';

const USAGE = `usage: voicebridge <command> [options]

commands:
  serve --config FILE run the bridge against the configured homeserver
  dev [...]           the bridge, a development homeserver and a web page to call it from
  check-config FILE   validate a config file; print the effective config (secrets redacted)
  report [...]        print the security report from the audit store (see: report --help)
  simulate [...]      run synthetic callers through the policy core on a simulated clock
  --version           print the version
`;

const SIMULATE_USAGE = `usage: voicebridge simulate [--config FILE] [--hours N] [--seed N]
                           [--audit PATH] [--events PATH]

  --config FILE   the policy to simulate (default: the built-in defaults, plus a block
                  of the server spam.example so that denials show)
  --hours N       simulated hours (default 2)
  --seed N        seed of the synthetic callers (default 7)
  --audit PATH    audit store to write (default .voicebridge/simulation-audit.db, started
                  afresh each run; a store named here is appended to)
  --events PATH   security event log, JSON lines (default .voicebridge/simulation-events.jsonl,
                  started afresh each run)

The synthetic callers: @user0..19, @chatty0..2 (talk long, heavy token use), @idle0..1
(silent: idle TTL), @redialer (calls every minute: rate limit) and @plaintext (unencrypted
signaling) on example.org, and @spammer on spam.example.
`;

const DEFAULT_AUDIT = '.voicebridge/simulation-audit.db';
const DEFAULT_EVENTS = '.voicebridge/simulation-events.jsonl';

/** The policy `simulate` uses when no config file is given. */
const SIMULATION_DEFAULTS = `
[voice]
blocked_users = ["@*:spam.example"]
`;

/** The version in the package's own package.json (two folders above dist/src/cli.js). */
function packageVersion(): string {
  const file = new URL('../../package.json', import.meta.url);
  const fromDist = existsSync(file) ? file : new URL('../package.json', import.meta.url);
  return (JSON.parse(readFileSync(fromDist, 'utf8')) as { version: string }).version;
}

/** Runs one command; returns the exit code. */
export function main(argv: string[], io: CommandIo): number | Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'serve':
      return serve(args, io);
    case 'dev':
      return dev(args, io);
    case 'check-config':
      return checkConfig(args, io);
    case 'report':
      return runReportCommand(args, io);
    case 'simulate':
      return simulate(args, io);
    case '--version':
    case 'version':
      io.stdout(`voicebridge ${packageVersion()}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      io.stdout(USAGE);
      return command === undefined ? 2 : 0;
    default:
      io.stderr(`voicebridge: unknown command ${JSON.stringify(command)}\n${USAGE}`);
      return 2;
  }
}

function checkConfig(args: string[], io: CommandIo): number {
  const usage =
    'usage: voicebridge check-config FILE\n\n' +
    'Validates FILE and prints the effective configuration (secrets redacted) with its policy\n' +
    'version; exits 2 and prints every error when it is not valid.\n';
  if (args[0] === '--help' || args[0] === '-h') {
    io.stdout(usage);
    return 0;
  }
  if (args.length !== 1 || args[0] === undefined || args[0].startsWith('-')) {
    io.stderr(usage);
    return 2;
  }
  try {
    const config = loadConfigFile(args[0]);
    io.stdout(
      `# policy version ${policyVersion(config.voice)}\n${formatEffectiveConfig(config)}\n`,
    );
    // Valid as a config (`dev --config` and `simulate` take such files), but not enough to serve.
    const missing = missingForServe(config);
    if (missing.length > 0) {
      io.stderr(`note: serve would not start with ${args[0]}:\n  ${missing.join('\n  ')}\n`);
    }
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(
      `${describeConfigError(error)}\n${error.problems.length} error(s) in ${error.source}\n`,
    );
    return 2;
  }
}

function simulate(args: string[], io: CommandIo): number {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        config: { type: 'string' },
        hours: { type: 'string', default: '2' },
        seed: { type: 'string', default: '7' },
        audit: { type: 'string' },
        events: { type: 'string', default: DEFAULT_EVENTS },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    io.stderr(`voicebridge simulate: ${(error as Error).message}\n${SIMULATE_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout(SIMULATE_USAGE);
    return 0;
  }
  const hours = Number(values.hours);
  const seed = Number(values.seed);
  if (!Number.isFinite(hours) || hours <= 0 || hours > 24 * 30) {
    io.stderr(
      `voicebridge simulate: --hours must be a number in (0, 720], got ${JSON.stringify(values.hours)}\n`,
    );
    return 2;
  }
  if (!Number.isSafeInteger(seed)) {
    io.stderr(
      `voicebridge simulate: --seed must be an integer, got ${JSON.stringify(values.seed)}\n`,
    );
    return 2;
  }

  let config;
  try {
    config =
      values.config === undefined
        ? parseConfig(SIMULATION_DEFAULTS, '(simulation defaults)')
        : loadConfigFile(values.config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(`${describeConfigError(error)}\n`);
    return 2;
  }

  // The default files belong to the simulation: each run starts them afresh.
  const auditPath = values.audit ?? DEFAULT_AUDIT;
  if (values.audit === undefined) {
    for (const suffix of ['', '-wal', '-shm']) rmSync(DEFAULT_AUDIT + suffix, { force: true });
  }
  mkdirSync(dirname(values.events), { recursive: true });
  const log = new SecurityLog(
    pino(
      { level: 'info', base: { component: 'security' } },
      pino.destination({ dest: values.events, sync: true, mode: 0o600, append: false }),
    ),
  );
  const audit = AuditStore.open(auditPath);
  try {
    const started = performance.now();
    const summary = runPolicySimulation(config.voice, { log, audit, hours, seed });
    const wallMs = performance.now() - started;
    io.stdout(
      [
        `Simulated ${hours} h of calls in ${(wallMs / 1000).toFixed(2)} s of wall time.`,
        `  attempted ${summary.attempted}, admitted ${summary.admitted}, audit records committed ${summary.recordsCommitted}`,
        `  denied:   ${formatCounts(summary.denied)}`,
        `  ended:    ${formatCounts(summary.ended)}`,
        `  security events: ${values.events}`,
        `  audit store:     ${auditPath}`,
        '',
      ].join('\n'),
    );
    // The simulated clock ran from `hours` ago up to now.
    const report = buildSecurityReport(audit, { now: Date.now(), verify: true });
    io.stdout(formatSecurityReport(report, 'text') + '\n');
    return report.chain?.ok === false ? 1 : 0;
  } finally {
    audit.close();
  }
}

/** The first problems of a bad config, one a line; a file with thousands of errors stays readable. */
function describeConfigError(error: ConfigError, shown = 100): string {
  const lines = error.message.split('\n');
  if (lines.length <= shown) return error.message;
  return [...lines.slice(0, shown), `... and ${lines.length - shown} more`].join('\n');
}

function formatCounts(counts: Record<string, number>): string {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? '(none)' : entries.map(([k, v]) => `${k} ${v}`).join(', ');
}

/** True when this module is the program being run (not imported by a test). */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  return (
    script !== undefined && realpathSync(script) === realpathSync(fileURLToPath(import.meta.url))
  );
}

if (isEntryPoint()) {
  // A reader that stops early (`| head`) is not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
  void Promise.resolve(
    main(process.argv.slice(2), {
      stdout: (s) => process.stdout.write(s),
      stderr: (s) => process.stderr.write(s),
    }),
  ).then((code) => {
    process.exitCode = code;
    // A served bridge has closed everything it opened; native libraries may still hold the
    // event loop, so the process ends here rather than waiting for them.
    if (process.argv[2] === 'serve' || process.argv[2] === 'dev') process.exit(code);
  });
}
