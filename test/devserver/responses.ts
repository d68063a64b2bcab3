// The shapes of the client-server API responses that the tests read, as the spec gives them.

/** A JSON object whose fields a test has not typed further. */
export type Body = Record<string, unknown>;

/** An event in the client format. */
export interface ClientEvent {
  readonly event_id: string;
  readonly type: string;
  readonly sender: string;
  readonly origin_server_ts: number;
  readonly content: Body;
  readonly state_key?: string;
  readonly room_id?: string;
  readonly unsigned: {
    readonly age: number;
    readonly transaction_id?: string;
    readonly prev_content?: Body;
  };
}

/** An event of stripped state, or an invite event in an invite's state. */
export interface StrippedEvent {
  readonly type: string;
  readonly state_key: string;
  readonly sender: string;
  readonly content: Body;
}

/** A timeline section of a sync room entry. */
export interface Timeline {
  readonly events: ClientEvent[];
  readonly limited: boolean;
  readonly prev_batch: string;
}

/** An account-data event. */
export interface AccountDataEvent {
  readonly type: string;
  readonly content: Body;
}

/** A `rooms.join` entry. */
export interface JoinedRoom {
  readonly timeline: Timeline;
  readonly state: { readonly events: ClientEvent[] };
  readonly ephemeral: { readonly events: Body[] };
  readonly account_data: { readonly events: AccountDataEvent[] };
}

/** A `rooms.leave` entry. */
export interface LeftRoom {
  readonly timeline: Timeline;
  readonly state: { readonly events: ClientEvent[] };
}

/** A to-device event. */
export interface ToDeviceEvent {
  readonly type: string;
  readonly sender: string;
  readonly content: Body;
}

/** A `GET /sync` response. */
export interface SyncResponse {
  readonly next_batch: string;
  readonly rooms: {
    readonly join: Record<string, JoinedRoom>;
    readonly invite: Record<
      string,
      { readonly invite_state: { readonly events: StrippedEvent[] } }
    >;
    readonly leave: Record<string, LeftRoom>;
  };
  readonly account_data: { readonly events: AccountDataEvent[] };
  readonly to_device: { readonly events: ToDeviceEvent[] };
  readonly device_lists: { readonly changed: string[]; readonly left: string[] };
  readonly device_one_time_keys_count: Record<string, number>;
  readonly device_unused_fallback_key_types: string[];
}

/** A `GET /rooms/{roomId}/messages` response. */
export interface MessagesResponse {
  readonly start: string;
  readonly end?: string;
  readonly chunk: ClientEvent[];
}

/** The `rooms.join` entry of a room, which the test expects to be there. */
export function joined(sync: SyncResponse, roomId: string): JoinedRoom {
  const room = sync.rooms.join[roomId];
  if (room === undefined) throw new Error(`${roomId} is not in rooms.join`);
  return room;
}
