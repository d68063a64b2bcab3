import { BudgetTracker } from '../budget/budget-tracker.js';
import type { Clock } from '../clock.js';
import type { VoiceConfig } from '../config/types.js';
import { CallSessions } from '../engine/call-sessions.js';
import { SlotTable } from '../engine/slot-table.js';
import { SecurityEnforcer } from '../policy/security-enforcer.js';
import type { SecurityLog } from '../telemetry/security-log.js';
import { TtlManager } from '../ttl/ttl-manager.js';
import { CallGate, type AuditSink } from './call-gate.js';

/** Everything that decides whether a call may start and when it must end, wired together. */
export interface PolicyCore {
  slots: SlotTable;
  sessions: CallSessions;
  enforcer: SecurityEnforcer;
  budget: BudgetTracker;
  ttl: TtlManager;
  gate: CallGate;
  /**
   * Starts the main thread's enforcement: every `voice.ttl.enforcement_interval` it checks
   * every live call's limits and forgets rate-limit state of users whose window emptied.
   * Returns a function that stops it.
   */
  startEnforcement(): () => void;
}

/**
 * Builds the policy core for `voice`. The slot table is sized from max_concurrent_calls (or
 * `capacity`, to leave room for a reload that raises the limit).
 */
export function createPolicyCore(
  voice: VoiceConfig,
  options: { clock: Clock; log: SecurityLog; audit: AuditSink; callee: string; capacity?: number },
): PolicyCore {
  const { clock, log } = options;
  const slots = SlotTable.create(options.capacity ?? voice.max_concurrent_calls);
  const sessions = new CallSessions(slots, clock, log);
  const enforcer = new SecurityEnforcer(voice, { clock, log, capacity: slots.capacity });
  const budget = new BudgetTracker(sessions, clock);
  const ttl = new TtlManager(sessions, clock);
  const gate = new CallGate({
    enforcer,
    budget,
    audit: options.audit,
    clock,
    callee: options.callee,
  });
  const startEnforcement = (): (() => void) => {
    const timer = setInterval(() => {
      ttl.enforceTtl();
      enforcer.sweep();
    }, voice.ttl.enforcement_interval);
    timer.unref();
    return () => clearInterval(timer);
  };
  return { slots, sessions, enforcer, budget, ttl, gate, startEnforcement };
}
