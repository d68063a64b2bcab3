/**
 * `npm run soak`: a long run of rotating calls through the whole bridge, ending in a leak
 * report; `npm run soak -- report DIR` remakes the report of a run from its samples on disk.
 *
 * Exit codes: 0 pass or warn (the report names what to look at), 1 fail, 2 bad settings or a
 * run folder that cannot be read. `FAIL_ON_WARN=1` makes a warn exit 1 too.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { fleetDriver } from './fleet-driver.js';
import { SampleReadError } from './sample-log.js';
import {
  SOAK_ENVIRONMENT,
  SoakOptionError,
  soakOptionsFrom,
  thresholdsFrom,
} from './soak-options.js';
import { makeReport, REPORT_FILES, type SoakReport } from './soak-report.js';
import { SAMPLES_FILE } from './soak-record.js';
import { runSoak } from './soak-runner.js';

const USAGE = `usage: npm run soak [-- --out DIR]
       npm run soak -- report DIR

Environment:
${SOAK_ENVIRONMENT.map(([name, meaning]) => `  ${name.padEnd(26)} ${meaning}`).join('\n')}
  FAIL_ON_WARN               1 to exit 1 on a warn verdict (default: warn exits 0)
`;

async function main(args: string[]): Promise<number> {
  if (args[0] === '--help' || args[0] === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  let failOnWarn: boolean;
  try {
    failOnWarn = readFailOnWarn(process.env.FAIL_ON_WARN);
  } catch (error) {
    return badInput(error);
  }

  if (args[0] === 'report') {
    const dir = args[1];
    if (dir === undefined || args.length > 2) {
      process.stderr.write(`soak report: needs exactly one run folder\n${USAGE}`);
      return 2;
    }
    try {
      const report = makeReport(resolve(dir), thresholdsFrom(process.env));
      return finish(report, resolve(dir), failOnWarn);
    } catch (error) {
      if (error instanceof SampleReadError) {
        process.stderr.write(`soak report: ${error.message}\n`);
        return 2;
      }
      return badInput(error);
    }
  }

  let options;
  try {
    options = soakOptionsFrom(process.env, args);
  } catch (error) {
    return badInput(error);
  }
  const dir = resolve(
    options.outDir ??
      join('.voicebridge', `soak-${new Date().toISOString().replace(/[:.]/g, '-')}`),
  );
  const unusable = unusableOutDir(dir);
  if (unusable !== undefined) {
    process.stderr.write(`soak: --out ${options.outDir ?? dir} ${unusable}\n`);
    return 2;
  }
  if (process.env.VOICEBRIDGE_NETNS !== '1') return reexecInNamespace(args);
  const controller = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    // Abort is idempotent: a terminal's Ctrl-C reaches this process and the namespace's parent,
    // which forwards it again.
    process.on(signal, () => controller.abort(signal));
  }
  const say = (line: string): void => {
    process.stdout.write(`[soak ${new Date().toISOString()}] ${line}\n`);
  };
  say(`run folder ${dir}`);
  const t = options.thresholds;
  say(
    `${options.durationS} s (warm-up ${options.warmupS} s), ${options.concurrentCalls} calls ` +
      `replaced every ${options.rotationS} s, a sample every ${options.sampleIntervalS} s; ` +
      `thresholds: warn above ${t.warnMb} MB, fail above ${t.failMb} MB, suspect above ` +
      `${t.suspectMbPerHour} MB/hour, resolution ${t.resolutionMb} MB, failed calls above ` +
      `${t.maxFailedPercent} %, handle tolerance ${t.handleTolerance}`,
  );
  const { report } = await runSoak(options, dir, fleetDriver, {
    log: say,
    signal: controller.signal,
  });
  return finish(report, dir, failOnWarn);
}

function finish(report: SoakReport, dir: string, failOnWarn: boolean): number {
  process.stdout.write(`\nverdict: ${report.verdict.toUpperCase()}\n`);
  for (const s of report.suspects) {
    process.stdout.write(`  ${s.severity.padEnd(7)} ${s.kind}: ${s.what}: ${s.evidence}\n`);
  }
  for (const note of report.notes) process.stdout.write(`  note: ${note}\n`);
  process.stdout.write(
    `report: ${join(dir, REPORT_FILES.markdown)} and ${join(dir, REPORT_FILES.json)}\n`,
  );
  if (report.verdict === 'fail') return 1;
  if (report.verdict === 'warn' && failOnWarn) return 1;
  return 0;
}

/** Why `dir` cannot take a new run, or undefined when it can. */
function unusableOutDir(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  if (!statSync(dir).isDirectory()) return 'is not a folder';
  if (existsSync(join(dir, SAMPLES_FILE))) {
    return `already holds a soak run (${SAMPLES_FILE}); choose another folder`;
  }
  return undefined;
}

function readFailOnWarn(raw: string | undefined): boolean {
  if (raw === undefined || raw === '' || raw === '0') return false;
  if (raw === '1') return true;
  throw new SoakOptionError(`FAIL_ON_WARN must be 1 or 0, got ${JSON.stringify(raw)}`);
}

function badInput(error: unknown): number {
  if (error instanceof SoakOptionError) {
    process.stderr.write(`soak: ${error.message}\n`);
    return 2;
  }
  throw error;
}

/**
 * Runs this script again inside a network namespace with only a loopback interface (WebRTC
 * gathers candidates on every interface it sees), with --expose-gc so main-thread samples
 * follow a full collection.
 */
function reexecInNamespace(args: string[]): Promise<number> {
  try {
    execFileSync('unshare', ['-rn', 'true'], { stdio: 'ignore' });
  } catch {
    process.stderr.write(
      'soak: cannot create a network namespace (unshare -rn failed); run as root or enable user namespaces\n',
    );
    return Promise.resolve(2);
  }
  const script = fileURLToPath(import.meta.url);
  const child = spawn(
    'unshare',
    [
      '-rn',
      'sh',
      '-c',
      'ip link set lo up && VOICEBRIDGE_NETNS=1 exec "$0" "$@"',
      process.execPath,
      '--expose-gc',
      script,
      ...args,
    ],
    { stdio: 'inherit' },
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => child.kill(signal));
  }
  return new Promise((done) => {
    child.on('exit', (code, signal) =>
      done(code ?? (signal === null ? 1 : 128 + constants.signals[signal])),
    );
  });
}

// Exit at once: the report is written, and nothing the run started may keep the process up.
process.exit(await main(process.argv.slice(2)));
