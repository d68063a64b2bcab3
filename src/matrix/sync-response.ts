/** A Matrix event as sync delivers it; every field is untrusted until checked. */
export interface RawEvent {
  type?: unknown;
  sender?: unknown;
  event_id?: unknown;
  state_key?: unknown;
  origin_server_ts?: unknown;
  content?: unknown;
  unsigned?: { age?: unknown; [key: string]: unknown };
  [key: string]: unknown;
}

/** The parts of a sync response the bridge reads. */
export interface SyncResponse {
  next_batch: string;
  rooms?: {
    join?: Record<string, { timeline?: { events?: RawEvent[] }; state?: { events?: RawEvent[] } }>;
    invite?: Record<string, { invite_state?: { events?: RawEvent[] } }>;
    leave?: Record<string, unknown>;
  };
  to_device?: { events?: RawEvent[] };
  device_lists?: { changed?: string[]; left?: string[] };
  device_one_time_keys_count?: Record<string, number>;
  device_unused_fallback_key_types?: string[];
}
