import type { Homeserver } from './homeserver.js';
import type { JsonObject } from './json-input.js';
import { DEFAULT_TIMELINE_LIMIT, eventPasses, type SyncFilter } from './filters.js';
import { clientEvent, strippedStateEvent, type EventView, type RoomEvent } from './room-event.js';
import type { Room } from './room.js';
import { formatToken } from './stream-token.js';

/** State types an invite shows of its room, besides member events. */
const INVITE_STATE_TYPES = [
  'm.room.create',
  'm.room.join_rules',
  'm.room.name',
  'm.room.avatar',
  'm.room.topic',
  'm.room.canonical_alias',
  'm.room.encryption',
];

/** What a sync needs to describe one room. */
export interface RoomSyncContext {
  readonly hs: Homeserver;
  readonly userId: string;
  readonly filter: SyncFilter;
  readonly view: EventView;
  /** The `since` position, undefined for an initial sync. */
  readonly since: number | undefined;
  /** The position the response describes the server at (its `next_batch`). */
  readonly upTo: number;
  /** Whether the request asked for `full_state`. */
  readonly fullState: boolean;
}

/** A room's timeline section: the newest passing events of a range, and the events. */
interface Timeline {
  readonly json: JsonObject;
  readonly eventIds: Set<string>;
}

/** The newest events in (`after`, `upTo`] that pass the filter, up to the filter's limit. */
function timeline(context: RoomSyncContext, room: Room, after: number, upTo: number): Timeline {
  const limit = context.filter.timeline.limit ?? DEFAULT_TIMELINE_LIMIT;
  const picked: RoomEvent[] = [];
  let limited = false;
  for (const event of room.newestFirst(after, upTo)) {
    if (!eventPasses(context.filter.timeline, event)) continue;
    if (picked.length === limit) {
      limited = true;
      break;
    }
    picked.push(event);
  }
  picked.reverse();

  const first = picked[0];
  return {
    json: {
      events: picked.map((event) => clientEvent(event, context.view)),
      limited,
      // Paging back from here with /messages gives what came before the first event.
      prev_batch: formatToken(first === undefined ? upTo : first.position - 1),
    },
    eventIds: new Set(picked.map((event) => event.eventId)),
  };
}

/** Up to five other members, the names a client builds a room name from, and the counts. */
function summary(room: Room, userId: string): JsonObject {
  return {
    'm.heroes': room.heroes(userId, 5),
    'm.joined_member_count': room.memberCount('join'),
    'm.invited_member_count': room.memberCount('invite'),
  };
}

/**
 * State events to send beside a timeline: for a full answer all current state, otherwise the
 * current state events that came after `from`; in both cases less those the timeline holds.
 */
function stateSection(room: Room, from: number, full: boolean, inTimeline: Set<string>) {
  const fresh = (event: RoomEvent): boolean => !inTimeline.has(event.eventId);
  if (full) return room.stateEvents().filter(fresh);
  const state: RoomEvent[] = [];
  for (const event of room.newestFirst(from, room.lastPosition)) {
    if (event.stateKey === undefined || !fresh(event)) continue;
    if (room.stateEvent(event.type, event.stateKey) === event) state.push(event);
  }
  return state.reverse();
}

/**
 * The `rooms.join` entry of a room the user is joined to, or undefined when nothing in it
 * changed since the last sync. A room joined since then is described in full.
 */
export function joinedRoomEntry(
  context: RoomSyncContext,
  room: Room,
  member: RoomEvent,
): JsonObject | undefined {
  const { hs, userId, since, upTo } = context;
  const newlyJoined =
    since !== undefined &&
    member.position > since &&
    member.replaces?.content.membership !== 'join';
  const from = since === undefined || newlyJoined ? 0 : since;
  const accountData = hs.accountData.changedSince(
    userId,
    room.roomId,
    from === 0 ? undefined : from,
  );
  const changed = room.lastPosition > from || accountData.length > 0;
  if (!changed && !context.fullState) return undefined;

  const section = timeline(context, room, from, upTo);
  const full = from === 0 || context.fullState;
  const state = stateSection(room, from, full, section.eventIds);

  // Everything new may have been filtered out: then there is nothing to say about the room.
  if (!full && section.eventIds.size === 0 && state.length === 0 && accountData.length === 0) {
    return undefined;
  }

  return {
    timeline: section.json,
    state: { events: state.map((event) => clientEvent(event, context.view)) },
    ephemeral: { events: [] },
    account_data: { events: accountData },
    unread_notifications: { notification_count: 0, highlight_count: 0 },
    summary: summary(room, userId),
  };
}

/** The `rooms.invite` entry of a room the user is invited to: the invite and stripped state. */
export function invitedRoomEntry(
  context: RoomSyncContext,
  room: Room,
  invite: RoomEvent,
): JsonObject {
  const events: JsonObject[] = [];
  for (const type of INVITE_STATE_TYPES) {
    const event = room.stateEvent(type, '');
    if (event !== undefined) events.push(strippedStateEvent(event));
  }
  const inviter = room.stateEvent('m.room.member', invite.sender);
  if (inviter !== undefined && inviter !== invite) events.push(strippedStateEvent(inviter));
  events.push(clientEvent(invite, context.view));
  return { invite_state: { events } };
}

/** The `rooms.leave` entry of a room the user left (or was removed from): up to the leave. */
export function leftRoomEntry(context: RoomSyncContext, room: Room, leave: RoomEvent): JsonObject {
  const from = context.since ?? 0;
  const section = timeline(context, room, from, leave.position);
  const state = room
    .stateAt(leave.position)
    .filter((event) => event.position > from && !section.eventIds.has(event.eventId));
  return {
    timeline: section.json,
    state: { events: state.map((event) => clientEvent(event, context.view)) },
    account_data: { events: [] },
  };
}
