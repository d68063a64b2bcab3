import type { AuditRecord, CallState, StoredAuditRecord } from '../audit/audit-record.js';
import { AuditError } from '../audit/audit-error.js';
import {
  checkOverrides,
  type BudgetOverrides,
  type BudgetTracker,
} from '../budget/budget-tracker.js';
import type { Clock } from '../clock.js';
import type { CallSession } from '../engine/call-session.js';
import type { DenialReason } from '../policy/denial.js';
import { SECURITY_EVENTS } from '../telemetry/security-log.js';
import type { Admission, CallContext, SecurityEnforcer } from '../policy/security-enforcer.js';
import { auditCount, auditText } from './audit-values.js';

/** Where audit records go; append must be durable when it returns. */
export interface AuditSink {
  append(record: AuditRecord): StoredAuditRecord;
}

/** The outcome of asking to start a call. */
export type GateResult =
  | { admitted: true; session: CallSession }
  | { admitted: false; reason: DenialReason; record: AuditRecord; committed: boolean };

/** How a call ended, for its audit record. */
export interface CallEnd {
  /** A stop reason, a hangup reason, or an error code. */
  reason: string;
  state?: CallState;
}

/** Told of every call's record as the call is refused or ends, committed or not. */
export type CallRecordListener = (record: AuditRecord) => void;

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
  /** Live sessions by call id; a session leaves exactly once, when it ends. */
  readonly #live = new Map<string, CallSession>();
  /** Records that could not be committed yet, oldest first. */
  readonly #pending: AuditRecord[] = [];
  /** Records the store refused as invalid. */
  readonly #rejected: AuditRecord[] = [];
  /** Who hears of a failed commit. */
  #onAuditFailure: AuditFailureListener = () => {};
  /** Who hears of every record (metrics). */
  readonly #recordListeners = new Set<CallRecordListener>();

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

  /** Adds a listener for every call's record; returns its removal. */
  onRecord(listener: CallRecordListener): () => void {
    this.#recordListeners.add(listener);
    return () => this.#recordListeners.delete(listener);
  }

  /** The live session of `callId`, if any. */
  liveCall(callId: string): CallSession | undefined {
    return this.#live.get(callId);
  }

  /** Sets who hears of a failed audit commit. */
  onAuditFailure(listener: AuditFailureListener): void {
    this.#onAuditFailure = listener;
  }

  /**
   * Admits a call or refuses it. A refusal is committed to the audit store before this
   * returns; an admitted call holds a reservation and a slot until `end`.
   */
  start(context: CallContext, overrides: BudgetOverrides = {}): GateResult {
    // Read once: what admission checks is what the record says.
    const call: CallContext = {
      callId: context.callId,
      userId: context.userId,
      roomId: context.roomId,
      signalingEncrypted: context.signalingEncrypted,
      signalingTls: context.signalingTls,
      roomMembers: context.roomMembers,
    };
    checkCallId(call.callId);
    checkOverrides(overrides);
    // Callers choose their call ids: a second live call under one id could end the first.
    const admission: Admission = this.#live.has(call.callId)
      ? {
          admitted: false,
          reason: 'duplicate_call_id',
          policyVersion: this.#enforcer.policy.version,
        }
      : this.#enforcer.admit(call);
    if (!admission.admitted) {
      const now = this.#clock();
      const record: AuditRecord = {
        call_id: call.callId,
        room_id: auditText(call.roomId),
        caller: auditText(call.userId),
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
      const committed = this.#commit(record);
      return { admitted: false, reason: admission.reason, record, committed };
    }

    let session: CallSession;
    try {
      session = this.#budget.startSession(admission.reservation, overrides);
    } catch (error) {
      this.#enforcer.release(admission.reservation, 'start_failed');
      throw error;
    }
    this.#live.set(session.callId, session);
    return { admitted: true, session };
  }

  /**
   * Ends a call: frees its slot and reservation, then commits its audit record. Returns the
   * record, or undefined when the call had already ended. When the store refuses the record
   * it is kept and retried on the next commit (`committed` is false); the call's resources
   * are freed either way.
   */
  end(session: CallSession, end: CallEnd): { record: AuditRecord; committed: boolean } | undefined {
    if (this.#live.get(session.callId) !== session) return undefined;
    this.#live.delete(session.callId);

    const usage = this.#budget.endSession(session);
    const { reservation } = session;
    const reason = auditText(end.reason, 'unknown');
    this.#enforcer.release(reservation, reason);
    const start = Math.floor(reservation.admittedAt);
    // A clock that stepped back during the call must not give a record ending before it began.
    const finish = Math.max(start, Math.floor(this.#clock()));
    const record: AuditRecord = {
      call_id: reservation.callId,
      room_id: reservation.roomId,
      caller: reservation.userId,
      callee: this.#callee,
      state: end.state ?? 'ended',
      end_reason: reason,
      start,
      end: finish,
      duration: finish - start,
      token_usage: {
        input_tokens: auditCount(usage.input_tokens),
        output_tokens: auditCount(usage.output_tokens),
        model: auditText(usage.model, ''),
      },
      policy_version: reservation.policy.version,
      events: session.events,
      violations: session.violations,
    };
    return { record, committed: this.#commit(record) };
  }

  /**
   * Retries records the store refused. A store that fails (full disk, closed) keeps the queue
   * waiting, in order; a record the store can never take (invalid) is set aside so that it
   * cannot hold back the records after it. Returns how many are still waiting.
   */
  flush(): number {
    while (this.#pending.length > 0) {
      const record = this.#pending[0] as AuditRecord;
      try {
        this.#audit.append(record);
      } catch (error) {
        this.#tellFailure(record, error);
        if (!(error instanceof AuditError && error.code === 'invalid_record')) break;
        this.#rejected.push(record);
      }
      this.#pending.shift();
    }
    return this.#pending.length;
  }

  /** Records the store refused as invalid; kept so that nothing is silently lost. */
  get rejectedAuditRecords(): readonly AuditRecord[] {
    return this.#rejected;
  }

  #tellFailure(record: AuditRecord, error: unknown): void {
    try {
      this.#onAuditFailure(record, error);
    } catch {
      // The listener's own failure must not stop the commit or the call's release.
    }
  }

  /** Queues a record and commits what is queued; true when this record is committed. */
  #commit(record: AuditRecord): boolean {
    this.#pending.push(record);
    this.flush();
    for (const listener of this.#recordListeners) {
      try {
        listener(record);
      } catch {
        // A listener (metrics) must not stop the call's release or the next listener.
      }
    }
    return !this.#pending.includes(record);
  }
}

/** Refuses a call id that no audit record could carry. */
function checkCallId(callId: unknown): void {
  if (
    typeof callId !== 'string' ||
    callId === '' ||
    callId.length > 255 ||
    !callId.isWellFormed() ||
    /\p{Cc}/u.test(callId)
  ) {
    const shown = typeof callId === 'string' ? JSON.stringify(callId.slice(0, 64)) : typeof callId;
    throw new TypeError(
      `callId must be a non-empty string of at most 255 characters without controls, got ${shown}`,
    );
  }
}
