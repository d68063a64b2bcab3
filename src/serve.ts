import { parseArgs } from 'node:util';

import { pino } from 'pino';

import type { CommandIo } from './audit/report-command.js';
import { startBridge } from './bridge.js';
import { policyVersion } from './config/policy-version.js';
import { ConfigError, loadConfigFile } from './config/load.js';
import type { Config } from './config/types.js';
import { SecurityLog } from './telemetry/security-log.js';

/** The longest a shutdown may take before the process gives up waiting and exits 1. */
const SHUTDOWN_LIMIT_MS = 20_000;

const USAGE = `usage: voicebridge serve --config FILE

Runs the bridge against the configured homeserver. SIGTERM or SIGINT: stop taking calls,
hang up every live call, commit every audit record and exit 0. SIGHUP: reload the [voice]
policy from FILE (new calls get it; live calls keep the limits they started with).
`;

/** What `serve` needs beyond a valid config: where to connect and how to log in. */
function missingForServe(config: Config): string[] {
  const { matrix } = config;
  const problems: string[] = [];
  if (matrix.homeserver_url === '') {
    problems.push('matrix.homeserver_url: serve needs a homeserver');
  }
  if (matrix.user_id === '') problems.push('matrix.user_id: serve needs the bot account');
  if (matrix.access_token === '' && matrix.password === '') {
    problems.push(
      'matrix.access_token: serve needs an access token or a password ' +
        '(matrix.access_token[_file], matrix.password[_file], VOICEBRIDGE_ACCESS_TOKEN or VOICEBRIDGE_PASSWORD)',
    );
  }
  return problems;
}

/** Settings that turn a protection off: allowed, but said out loud at every start. */
function weakenedPolicy(config: Config): Array<{ key: string; message: string }> {
  const { voice } = config;
  const warnings: Array<{ key: string; message: string }> = [];
  if (!voice.require_e2ee) {
    warnings.push({
      key: 'voice.require_e2ee',
      message: 'calls in unencrypted rooms are answered',
    });
  }
  if (!voice.require_signaling_tls) {
    warnings.push({
      key: 'voice.require_signaling_tls',
      message: 'signaling and agent connections may be plaintext',
    });
  }
  if (!voice.hard_stop) {
    warnings.push({
      key: 'voice.hard_stop',
      message: 'calls run past their token and duration budgets',
    });
  }
  if (!voice.ttl.hard_stop) {
    warnings.push({ key: 'voice.ttl.hard_stop', message: 'calls run past their session TTLs' });
  }
  if (voice.rate_limit_calls === 0) {
    warnings.push({ key: 'voice.rate_limit_calls', message: 'no per-user rate limit' });
  }
  return warnings;
}

/**
 * `voicebridge serve`: resolves with the exit code once the bridge has stopped: 0 after a
 * clean shutdown, 1 when the bridge could not start or the shutdown overran its limit, 2 for a
 * bad command line or config.
 */
export async function serve(args: string[], io: CommandIo): Promise<number> {
  let file: string | undefined;
  try {
    const { values } = parseArgs({
      args,
      options: { config: { type: 'string' }, help: { type: 'boolean', default: false } },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      io.stdout(USAGE);
      return 0;
    }
    file = values.config;
  } catch (error) {
    io.stderr(`voicebridge serve: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (file === undefined) {
    io.stderr(`voicebridge serve: --config FILE is required\n${USAGE}`);
    return 2;
  }

  let config;
  try {
    config = loadConfigFile(file);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(`${error.message}\n${error.problems.length} error(s): not starting\n`);
    return 2;
  }
  const missing = missingForServe(config);
  if (missing.length > 0) {
    for (const problem of missing) io.stderr(`${file}: ${problem}\n`);
    io.stderr(`${missing.length} error(s): not starting\n`);
    return 2;
  }

  const log = pino({ level: config.log.level, base: { component: 'bridge' } });
  for (const warning of weakenedPolicy(config)) {
    log.warn({ event: 'config_warning', ...warning }, 'policy weakened');
  }
  const security = SecurityLog.create(config.log.level);
  let running;
  try {
    running = await startBridge(config, { security, bridge: log });
  } catch (error) {
    log.error({ event: 'bridge_start_failed', error: String(error) }, 'not starting');
    io.stderr(
      `voicebridge serve: cannot start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }
  log.info(
    { event: 'bridge_ready', user_id: running.userId, policy_version: policyVersion(config.voice) },
    'bridge ready',
  );

  const reload = (): void => {
    try {
      const fresh = loadConfigFile(file);
      const policy = running.core.enforcer.updatePolicy(fresh.voice);
      log.info({ event: 'policy_reloaded', policy_version: policy.version }, 'policy reloaded');
    } catch (error) {
      log.error({ event: 'policy_reload_failed', error: String(error) }, 'policy kept');
    }
  };
  process.on('SIGHUP', reload);

  return new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      process.off('SIGHUP', reload);
      log.info({ event: 'bridge_stopping', signal }, 'stopping');
      const overrun = setTimeout(() => {
        log.error(
          { event: 'bridge_stop_overran', limit_ms: SHUTDOWN_LIMIT_MS },
          'shutdown overran',
        );
        resolve(1);
      }, SHUTDOWN_LIMIT_MS);
      running.stop().then(
        () => {
          clearTimeout(overrun);
          log.info({ event: 'bridge_stopped' }, 'stopped');
          resolve(0);
        },
        (error: unknown) => {
          clearTimeout(overrun);
          log.error({ event: 'bridge_stop_failed', error: String(error) }, 'stop failed');
          resolve(1);
        },
      );
    };
    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
}
