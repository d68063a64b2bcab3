import { pino, type DestinationStream, type Logger } from 'pino';

/** One stable name per kind of security event; logs, audit records and tests all use these. */
export const SECURITY_EVENTS = {
  accessDenied: 'voice_access_denied',
  callRegistered: 'voice_call_registered',
  callUnregistered: 'voice_call_unregistered',
  budgetWarning: 'voice_budget_warning',
  budgetEnforced: 'voice_budget_enforced',
  durationEnforced: 'voice_duration_enforced',
  ttlWarning: 'voice_session_ttl_warning',
  ttlEnforced: 'voice_session_ttl_enforced',
  limitViolation: 'voice_limit_violation',
} as const;

/** A security event name. */
export type SecurityEventName = (typeof SECURITY_EVENTS)[keyof typeof SECURITY_EVENTS];

/** Fields an event may carry: ids where known, and numbers or short codes. Never secrets. */
export interface SecurityEventFields {
  call_id?: string;
  room_id?: string;
  user_id?: string;
  [field: string]: string | number | boolean | undefined;
}

/** Something that wants to see every security event as it is logged (metrics, audit). */
export type SecurityEventListener = (event: SecurityEventName, fields: SecurityEventFields) => void;

/**
 * Structured security events as JSON log lines, one line per event with an `event` field.
 * Listeners see each event too; a listener that throws cannot stop the log line or the others.
 */
export class SecurityLog {
  /** Where the lines go. */
  readonly #logger: Logger;
  /** Who else hears each event. */
  readonly #listeners = new Set<SecurityEventListener>();
  /** Lines the logger could not write. */
  #failedWrites = 0;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** A log writing JSON lines to `destination` (stdout by default). */
  static create(level = 'info', destination?: DestinationStream): SecurityLog {
    const options = { level, base: { component: 'security' } };
    return new SecurityLog(destination === undefined ? pino(options) : pino(options, destination));
  }

  /** A log that writes nothing; listeners still hear events. */
  static silent(): SecurityLog {
    return new SecurityLog(pino({ level: 'silent' }));
  }

  /** Lines that could not be written since start. */
  get failedWrites(): number {
    return this.#failedWrites;
  }

  /** Adds a listener; returns a function that removes it. */
  listen(listener: SecurityEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** False when nobody would see `event`: callers may then skip building its fields. */
  wants(event: SecurityEventName): boolean {
    return this.#listeners.size > 0 || this.#logger.isLevelEnabled(LEVEL_OF[event]);
  }

  /** Logs one event. Denials, enforcements and violations are warnings; the rest are info. */
  emit(event: SecurityEventName, fields: SecurityEventFields): void {
    const level = LEVEL_OF[event];
    if (this.#logger.isLevelEnabled(level)) {
      try {
        this.#logger[level]({ event, ...fields }, event);
      } catch {
        // A log that cannot be written (a full disk) must not break the decision it records:
        // admission and release go on, and the audit store still gets the call's record.
        this.#failedWrites += 1;
      }
    }
    for (const listener of this.#listeners) {
      try {
        listener(event, fields);
      } catch (error) {
        try {
          this.#logger.error({ event: 'security_listener_failed', err: error }, 'listener threw');
        } catch {
          this.#failedWrites += 1;
        }
      }
    }
  }
}

const LEVEL_OF: Record<SecurityEventName, 'info' | 'warn'> = {
  voice_access_denied: 'warn',
  voice_call_registered: 'info',
  voice_call_unregistered: 'info',
  voice_budget_warning: 'warn',
  voice_budget_enforced: 'warn',
  voice_duration_enforced: 'warn',
  voice_session_ttl_warning: 'warn',
  voice_session_ttl_enforced: 'warn',
  voice_limit_violation: 'warn',
};
