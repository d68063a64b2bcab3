import { pathToFileURL } from 'node:url';

import { ManualClock } from '../src/clock.js';
import { defaultConfig } from '../src/config/load.js';
import { SecurityEnforcer, type CallContext } from '../src/policy/security-enforcer.js';
import { SecurityLog } from '../src/telemetry/security-log.js';
import { printTable } from './table.js';

const USERS = 1_000_000;

/**
 * Admission checks per second and rate-limit state per user, with 1 million distinct users.
 * Every admitted call is released at once, so the rate limit (not concurrency) holds state.
 */
export async function run(): Promise<Record<string, number>> {
  const clock = new ManualClock();
  const voice = {
    ...defaultConfig().voice,
    blocked_users: ['@*:spam.example', '@mallory:example.org'],
    allowed_rooms: ['!*:example.org'],
  };
  const enforcer = new SecurityEnforcer(voice, { clock: clock.now, log: SecurityLog.silent() });
  const calls: CallContext[] = [];
  for (let i = 0; i < USERS; i++) {
    calls.push({
      callId: `c${i}`,
      userId: `@user${i}:example.org`,
      roomId: `!room${i % 1000}:example.org`,
      signalingEncrypted: true,
      signalingTls: true,
    });
  }

  collect();
  const heapBefore = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  let started = process.hrtime.bigint();
  for (const call of calls) {
    const admission = enforcer.admit(call);
    if (admission.admitted) enforcer.release(admission.reservation);
    clock.advance(0.001);
  }
  const admitNs = Number(process.hrtime.bigint() - started) / USERS;
  collect();
  const heapAfter = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const state = enforcer.rateLimitState;

  // The same users again: every call now meets an existing window.
  started = process.hrtime.bigint();
  for (const call of calls) {
    const admission = enforcer.admit(call);
    if (admission.admitted) enforcer.release(admission.reservation);
  }
  const repeatNs = Number(process.hrtime.bigint() - started) / USERS;

  // Refusals at the block list, the cheapest way out.
  const blocked = { ...calls[0], userId: '@mallory:example.org' } as CallContext;
  started = process.hrtime.bigint();
  for (let i = 0; i < USERS; i++) enforcer.admit(blocked);
  const deniedNs = Number(process.hrtime.bigint() - started) / USERS;

  clock.advance(voice.rate_limit_window);
  const swept = enforcer.sweep();
  const afterSweep = enforcer.rateLimitState;

  return {
    admission_checks_per_second_new_users: Math.round(1e9 / admitNs),
    admission_checks_per_second_known_users: Math.round(1e9 / repeatNs),
    denials_per_second_blocked: Math.round(1e9 / deniedNs),
    rate_limit_active_users: state.activeUsers,
    rate_limit_state_bytes_per_user: state.bytes / state.activeUsers,
    heap_growth_bytes_per_user: (heapAfter - heapBefore) / USERS,
    users_dropped_by_sweep: swept,
    rate_limit_state_bytes_after_sweep: afterSweep.bytes,
    rate_limit_active_users_after_sweep: afterSweep.activeUsers,
  };
}

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    gc();
    gc();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  printTable('admission', await run());
}
