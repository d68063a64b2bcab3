/** How a call finished, as the audit store keeps it. */
export type CallState = 'ended' | 'denied' | 'failed';

/** One thing that happened during a call, in order. */
export interface AuditEvent {
  /** Milliseconds since the epoch. */
  at: number;
  /** A security event name, such as `voice_budget_warning`. */
  event: string;
  /** Event fields (no secrets). */
  detail?: Record<string, string | number | boolean>;
}

/** Tokens a call used. */
export interface TokenUsage {
  input_tokens: number;
  output_tokens: number;
  /** The last model the agent reported, or '' when none was. */
  model: string;
}

/** The durable record every call leaves, admitted or denied. */
export interface AuditRecord {
  call_id: string;
  room_id: string;
  /** The Matrix user who placed the call. */
  caller: string;
  /** The bridge's own user id. */
  callee: string;
  state: CallState;
  /** A stable reason code: a denial code, a stop reason or a hangup reason. */
  end_reason: string;
  /** Milliseconds since the epoch. */
  start: number;
  end: number;
  /** Milliseconds. */
  duration: number;
  token_usage: TokenUsage;
  policy_version: string;
  events: AuditEvent[];
  /** Policy overruns that did not end the call (soft limits), such as `budget_exceeded`. */
  violations: string[];
}

/** A record as stored: its position in the chain and the hashes that link it. */
export interface StoredAuditRecord extends AuditRecord {
  /** Position in the store, from 1. */
  seq: number;
  /** Hash of the previous record ('' before the first). */
  prev_hash: string;
  /** SHA-256 over prev_hash and this record's canonical form. */
  hash: string;
}
