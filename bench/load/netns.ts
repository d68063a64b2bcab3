import { spawnSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';

/** Marks a process already re-run inside its own network namespace. */
const INSIDE = 'VOICEBRIDGE_NETNS';

/** Names of the interfaces up that are not loopback. */
export function outsideInterfaces(): string[] {
  return Object.entries(networkInterfaces())
    .filter(([, addresses]) => addresses?.some((address) => !address.internal))
    .map(([name]) => name);
}

/**
 * Makes sure this process runs where only loopback exists (WebRTC gathers candidates on every
 * interface it sees). Returns undefined when it already does; otherwise re-runs the same
 * command under `unshare -rn` with loopback brought up, and returns that run's exit status for
 * this process to exit with. Returns 2, with a message on stderr, when that cannot be done.
 */
export function ensureLoopbackOnly(): number | undefined {
  const outside = outsideInterfaces();
  if (outside.length === 0) return undefined;
  if (process.env[INSIDE] === '1') {
    process.stderr.write(
      `load: still sees ${outside.join(', ')} inside the network namespace: not running\n`,
    );
    return 2;
  }
  if (spawnSync('unshare', ['-rn', 'true']).status !== 0) {
    process.stderr.write(
      'load: cannot make a loopback-only network namespace (unshare -rn failed); run as root or enable user namespaces\n',
    );
    return 2;
  }
  process.stderr.write('load: re-running inside a loopback-only network namespace (unshare -rn)\n');
  const script = 'ip link set lo up && exec "$0" "$@"';
  const run = spawnSync(
    'unshare',
    ['-rn', 'sh', '-c', script, process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    { stdio: 'inherit', env: { ...process.env, [INSIDE]: '1' } },
  );
  if (run.error !== undefined || run.status === null) {
    process.stderr.write(
      `load: cannot make a loopback-only network namespace (unshare -rn: ${String(run.error ?? run.signal)}); run as root or enable user namespaces\n`,
    );
    return 2;
  }
  return run.status;
}
