import type { Clock } from '../clock.js';
import { newEventId } from './ids.js';
import type { JsonObject } from './json-input.js';
import type { Notifier } from './notifier.js';
import type { RoomEvent } from './room-event.js';
import { Room } from './room.js';
import type { StreamCounter } from './stream-token.js';

/** An event to append, before the server gives it an id, a time and a position. */
export interface EventDraft {
  readonly sender: string;
  readonly type: string;
  readonly stateKey?: string;
  readonly content: JsonObject;
  readonly transaction?: { readonly deviceKey: string; readonly txnId: string };
}

/** What the directory needs from the server around it. */
export interface RoomDirectoryDeps {
  readonly stream: StreamCounter;
  readonly clock: Clock;
  readonly notifier: Notifier;
}

/**
 * Every room of the server, the aliases that name them, every event by id, and which rooms
 * each user has a membership in. Appending an event here is the one way events come to be.
 */
export class RoomDirectory {
  /** Stream, clock and notifier. */
  readonly #deps: RoomDirectoryDeps;
  /** Rooms by room id. */
  readonly #rooms = new Map<string, Room>();
  /** Room ids by alias. */
  readonly #aliases = new Map<string, string>();
  /** Ids of the rooms each user has, or had, a membership in. */
  readonly #roomsOfUser = new Map<string, Set<string>>();
  /** Every event by event id. */
  readonly #events = new Map<string, RoomEvent>();

  constructor(deps: RoomDirectoryDeps) {
    this.#deps = deps;
  }

  /** Rooms on the server. */
  get size(): number {
    return this.#rooms.size;
  }

  /** Adds an empty room. */
  create(roomId: string): Room {
    const room = new Room(roomId);
    this.#rooms.set(roomId, room);
    return room;
  }

  /** The room with this id, if any. */
  room(roomId: string): Room | undefined {
    return this.#rooms.get(roomId);
  }

  /** The room id an alias points to, if any. */
  resolveAlias(alias: string): string | undefined {
    return this.#aliases.get(alias);
  }

  /** Points an alias at a room; false when the alias is taken. */
  addAlias(alias: string, roomId: string): boolean {
    if (this.#aliases.has(alias)) return false;
    this.#aliases.set(alias, roomId);
    return true;
  }

  /** The event with this id, if any. */
  event(eventId: string): RoomEvent | undefined {
    return this.#events.get(eventId);
  }

  /** Rooms in which the user has, or had, any membership. */
  roomsOf(userId: string): Room[] {
    const rooms: Room[] = [];
    for (const roomId of this.#roomsOfUser.get(userId) ?? []) {
      const room = this.#rooms.get(roomId);
      if (room !== undefined) rooms.push(room);
    }
    return rooms;
  }

  /** Users who are joined to at least one room that `userId` is joined to, `userId` too. */
  usersSharingRoomWith(userId: string): Set<string> {
    const users = new Set<string>([userId]);
    for (const room of this.roomsOf(userId)) {
      if (room.membership(userId) !== 'join') continue;
      for (const member of room.members('join')) users.add(member);
    }
    return users;
  }

  /** Whether two users are both joined to some room. */
  shareRoom(a: string, b: string): boolean {
    for (const room of this.roomsOf(a)) {
      if (room.membership(a) === 'join' && room.membership(b) === 'join') return true;
    }
    return false;
  }

  /**
   * Gives the draft an id, a timestamp and the next stream position, appends it to the room
   * and wakes the syncs of everyone it concerns. The caller has checked it is allowed.
   */
  append(room: Room, draft: EventDraft): RoomEvent {
    const event: RoomEvent = {
      position: this.#deps.stream.next(),
      eventId: newEventId(),
      roomId: room.roomId,
      sender: draft.sender,
      type: draft.type,
      stateKey: draft.stateKey,
      content: draft.content,
      originServerTs: this.#deps.clock(),
      transaction: draft.transaction,
      replaces:
        draft.stateKey === undefined ? undefined : room.stateEvent(draft.type, draft.stateKey),
    };
    room.append(event);
    this.#events.set(event.eventId, event);

    const concerned = new Set([...room.members('join'), ...room.members('invite')]);
    if (event.type === 'm.room.member' && event.stateKey !== undefined) {
      this.#indexMember(event.stateKey, room.roomId);
      // A user who just left or was kicked must still hear of it.
      concerned.add(event.stateKey);
    }
    this.#deps.notifier.notify(concerned);
    return event;
  }

  #indexMember(userId: string, roomId: string): void {
    let rooms = this.#roomsOfUser.get(userId);
    if (rooms === undefined) {
      rooms = new Set();
      this.#roomsOfUser.set(userId, rooms);
    }
    rooms.add(roomId);
  }
}
