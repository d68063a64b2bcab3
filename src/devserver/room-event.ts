import type { JsonObject } from './json-input.js';

/** An event as the server keeps it, in its room's timeline. */
export interface RoomEvent {
  /** Its place in the server's stream; also orders the room's timeline. */
  readonly position: number;
  readonly eventId: string;
  readonly roomId: string;
  readonly sender: string;
  readonly type: string;
  /** Set for state events, '' included; undefined for message events. */
  readonly stateKey: string | undefined;
  readonly content: JsonObject;
  readonly originServerTs: number;
  /** The sending device's key and transaction id, when sent with a transaction id. */
  readonly transaction: { readonly deviceKey: string; readonly txnId: string } | undefined;
  /** For a state event, the state event it replaced, if any. */
  readonly replaces: RoomEvent | undefined;
}

/** What an event looks like depends on who reads it, when, and through which endpoint. */
export interface EventView {
  /** The reader's time, for `unsigned.age`. */
  readonly now: number;
  /** The reading device's key: its own transaction ids are shown back to it. */
  readonly deviceKey: string | undefined;
  /** Whether to include `room_id` (sync leaves it out, as the room is the enclosing key). */
  readonly withRoomId: boolean;
}

/** The event in the client-server API's "ClientEvent" format. */
export function clientEvent(event: RoomEvent, view: EventView): JsonObject {
  const unsigned: JsonObject = { age: Math.max(0, view.now - event.originServerTs) };
  if (event.transaction !== undefined && event.transaction.deviceKey === view.deviceKey) {
    unsigned.transaction_id = event.transaction.txnId;
  }
  if (event.replaces !== undefined) {
    unsigned.prev_content = event.replaces.content;
    unsigned.prev_sender = event.replaces.sender;
    unsigned.replaces_state = event.replaces.eventId;
  }

  const json: JsonObject = {
    type: event.type,
    content: event.content,
    sender: event.sender,
    origin_server_ts: event.originServerTs,
    event_id: event.eventId,
    unsigned,
  };
  if (event.stateKey !== undefined) json.state_key = event.stateKey;
  if (view.withRoomId) json.room_id = event.roomId;
  return json;
}

/** The event as "stripped state", the form invites carry the room's state in. */
export function strippedStateEvent(event: RoomEvent): JsonObject {
  return {
    type: event.type,
    state_key: event.stateKey ?? '',
    content: event.content,
    sender: event.sender,
  };
}
