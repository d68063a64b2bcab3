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
  return { slots, sessions, enforcer, budget, ttl, gate };
}
