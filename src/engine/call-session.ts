import type { AuditEvent } from '../audit/audit-record.js';
import type { Reservation } from '../policy/security-enforcer.js';
import type { SlotHandle } from './slot-table.js';
import type { StopReason } from './stop-reason.js';

/**
 * The main thread's view of a live call: its admission, its slot, and what the audit record
 * will need (events and violations in order, the last model the agent named).
 */
export class CallSession {
  /** The call's reservation, with the policy it was admitted under. */
  readonly reservation: Reservation;
  /** The call's slot in the shared table. */
  readonly handle: SlotHandle;
  /** The limits the call started with, for reports. */
  readonly tokenLimit: number;
  readonly durationLimit: number;
  /** The last model the agent reported. */
  model = '';
  /** Security events of this call, in order. */
  readonly events: AuditEvent[] = [];
  /** Soft-limit overruns that did not end the call. */
  readonly violations: string[] = [];
  /** Set once the call has been told to stop; later stop requests are ignored. */
  stopReason: StopReason | undefined;

  constructor(
    reservation: Reservation,
    handle: SlotHandle,
    tokenLimit: number,
    durationLimit: number,
  ) {
    this.reservation = reservation;
    this.handle = handle;
    this.tokenLimit = tokenLimit;
    this.durationLimit = durationLimit;
  }

  /** The call id. */
  get callId(): string {
    return this.reservation.callId;
  }
}
