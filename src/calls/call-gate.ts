import type { AuditRecord, CallState, StoredAuditRecord } from '../audit/audit-record.js';
import {
  checkOverrides,
  type BudgetOverrides,
  type BudgetTracker,
} from '../budget/budget-tracker.js';
import type { Clock } from '../clock.js';
import type { CallSession } from '../engine/call-session.js';
import type { DenialReason } from '../policy/denial.js';
import { SECURITY_EVENTS } from '../telemetry/security-log.js';
import type { CallContext, SecurityEnforcer } from '../policy/security-enforcer.js';

/** Where audit records go; append must be durable when it returns. */
export interface AuditSink {
  append(record: AuditRecord): StoredAuditRecord;
}

/** The outcome of asking to start a call. */
export type GateResult =
  | { admitted: true; session: CallSession }
  | { admitted: false; reason: DenialReason; record: AuditRecord };

/** How a call ended, for its audit record. */
export interface CallEnd {
  /** A stop reason, a hangup reason, or an error code. */
  reason: string;
  state?: CallState;
}

/** Told when an audit record could not be committed (it stays queued for a retry). */
export type AuditFailureListener = (record: AuditRecord, error: unknown) => void;

/**
 * The front door and the exit of every call: admission under the security policy, the
 * budget and slot of an admitted call, and on every way out the release of what the call
 * held and its audit record. Ending a call twice does nothing the second time.
 */
export class CallGate {
  readonly #enforcer: SecurityEnforcer;
  readonly #budget: BudgetTracker;
  readonly #audit: AuditSink;
  readonly #clock: Clock;
  /** The bridge's own user id, the callee of every call. */
  readonly #callee: string;
  /** Live sessions; a session leaves exactly once, when it ends. */
  readonly #live = new Set<CallSession>();
  /** Records that could not be committed yet, oldest first. */
  readonly #pending: AuditRecord[] = [];
  /** Who hears of a failed commit. */
  #onAuditFailure: AuditFailureListener = () => {};

  constructor(options: {
    enforcer: SecurityEnforcer;
    budget: BudgetTracker;
    audit: AuditSink;
    clock: Clock;
    callee: string;
  }) {
    this.#enforcer = options.enforcer;
    this.#budget = options.budget;
    this.#audit = options.audit;
    this.#clock = options.clock;
    this.#callee = options.callee;
  }

  /** Live calls. */
  get liveCalls(): number {
    return this.#live.size;
  }

  /** Audit records waiting for a retry because the store refused them. */
  get pendingAuditRecords(): number {
    return this.#pending.length;
  }

  /** Sets who hears of a failed audit commit. */
  onAuditFailure(listener: AuditFailureListener): void {
    this.#onAuditFailure = listener;
  }

  /**
   * Admits a call or refuses it. A refusal is committed to the audit store before this
   * returns; an admitted call holds a reservation and a slot until `end`.
   */
  start(call: CallContext, overrides: BudgetOverrides = {}): GateResult {
    checkOverrides(overrides);
    const admission = this.#enforcer.admit(call);
    if (!admission.admitted) {
      const now = this.#clock();
      const record: AuditRecord = {
        call_id: String(call.callId),
        room_id: String(call.roomId),
        caller: String(call.userId),
        callee: this.#callee,
        state: 'denied',
        end_reason: admission.reason,
        start: now,
        end: now,
        duration: 0,
        token_usage: { input_tokens: 0, output_tokens: 0, model: '' },
        policy_version: admission.policyVersion,
        events: [
          { at: now, event: SECURITY_EVENTS.accessDenied, detail: { reason: admission.reason } },
        ],
        violations: [],
      };
      this.#commit(record);
      return { admitted: false, reason: admission.reason, record };
    }

    let session: CallSession;
    try {
      session = this.#budget.startSession(admission.reservation, overrides);
    } catch (error) {
      this.#enforcer.release(admission.reservation, 'start_failed');
      throw error;
    }
    this.#live.add(session);
    return { admitted: true, session };
  }

  /**
   * Ends a call: frees its slot and reservation, then commits its audit record. Returns the
   * record, or undefined when the call had already ended. When the store refuses the record
   * it is kept and retried on the next commit (`committed` is false); the call's resources
   * are freed either way.
   */
  end(session: CallSession, end: CallEnd): { record: AuditRecord; committed: boolean } | undefined {
    if (!this.#live.delete(session)) return undefined;

    const usage = this.#budget.endSession(session);
    const { reservation } = session;
    this.#enforcer.release(reservation, end.reason);
    const now = this.#clock();
    const start = now - usage.elapsed;
    const record: AuditRecord = {
      call_id: reservation.callId,
      room_id: reservation.roomId,
      caller: reservation.userId,
      callee: this.#callee,
      state: end.state ?? 'ended',
      end_reason: end.reason,
      start,
      end: now,
      duration: now - start,
      token_usage: {
        input_tokens: usage.input_tokens,
        output_tokens: usage.output_tokens,
        model: usage.model,
      },
      policy_version: reservation.policy.version,
      events: session.events,
      violations: session.violations,
    };
    return { record, committed: this.#commit(record) };
  }

  /** Retries records the store refused. Returns how many are still waiting. */
  flush(): number {
    while (this.#pending.length > 0) {
      const record = this.#pending[0] as AuditRecord;
      try {
        this.#audit.append(record);
      } catch (error) {
        this.#onAuditFailure(record, error);
        break;
      }
      this.#pending.shift();
    }
    return this.#pending.length;
  }

  /** Live sessions. */
  live(): IterableIterator<CallSession> {
    return this.#live.values();
  }

  /** Queues a record and commits what is queued; true when this record is committed. */
  #commit(record: AuditRecord): boolean {
    this.#pending.push(record);
    this.flush();
    return !this.#pending.includes(record);
  }
}
