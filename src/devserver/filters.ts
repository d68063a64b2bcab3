import {
  describeValue,
  isJsonObject,
  optionalArray,
  optionalBoolean,
  optionalObject,
  stringItem,
  type JsonObject,
} from './json-input.js';
import { badJson } from './matrix-error.js';
import type { RoomEvent } from './room-event.js';

/** The timeline length sync gives when no filter says otherwise. */
export const DEFAULT_TIMELINE_LIMIT = 10;
/** The longest timeline a filter may ask for; larger limits are lowered to this. */
export const MAX_TIMELINE_LIMIT = 1000;

/** Which room events pass: the fields of the spec's RoomEventFilter that this server uses. */
export interface RoomEventFilter {
  /** Most events to return; undefined leaves it to the endpoint. */
  readonly limit: number | undefined;
  /** Type patterns (`*` matches anything) an event must match one of; undefined for any. */
  readonly types: readonly RegExp[] | undefined;
  /** Type patterns an event must match none of. */
  readonly notTypes: readonly RegExp[];
  /** Senders an event must come from one of; undefined for any. */
  readonly senders: ReadonlySet<string> | undefined;
  /** Senders whose events are left out. */
  readonly notSenders: ReadonlySet<string>;
}

/** A sync filter: the fields of the spec's Filter that this server applies. */
export interface SyncFilter {
  /** Rooms to include; undefined for all. */
  readonly rooms: ReadonlySet<string> | undefined;
  /** Rooms to leave out. */
  readonly notRooms: ReadonlySet<string>;
  /** Whether an initial sync lists the rooms the user has left. */
  readonly includeLeave: boolean;
  /** Which events the room timelines hold and how many. */
  readonly timeline: RoomEventFilter;
}

/** A type pattern as a regular expression: `*` matches any run of characters. */
function typePattern(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

/** Parses a RoomEventFilter object; `path` names it in error messages. */
export function parseRoomEventFilter(json: JsonObject, path: string): RoomEventFilter {
  const limit = json.limit;
  if (limit !== undefined && (!Number.isSafeInteger(limit) || (limit as number) < 0)) {
    throw badJson(`'${path}.limit' must be a non-negative integer, got ${describeValue(limit)}`);
  }
  const types =
    json.types === undefined
      ? undefined
      : optionalArray(json, 'types', stringItem, `${path}.types`);
  const senders =
    json.senders === undefined
      ? undefined
      : optionalArray(json, 'senders', stringItem, `${path}.senders`);
  return {
    limit: limit === undefined ? undefined : Math.min(limit as number, MAX_TIMELINE_LIMIT),
    types: types?.map(typePattern),
    notTypes: optionalArray(json, 'not_types', stringItem, `${path}.not_types`).map(typePattern),
    senders: senders === undefined ? undefined : new Set(senders),
    notSenders: new Set(optionalArray(json, 'not_senders', stringItem, `${path}.not_senders`)),
  };
}

/** Parses a sync Filter object. */
export function parseSyncFilter(json: JsonObject): SyncFilter {
  const room = optionalObject(json, 'room') ?? {};
  const rooms =
    room.rooms === undefined ? undefined : optionalArray(room, 'rooms', stringItem, 'room.rooms');
  return {
    rooms: rooms === undefined ? undefined : new Set(rooms),
    notRooms: new Set(optionalArray(room, 'not_rooms', stringItem, 'room.not_rooms')),
    includeLeave: optionalBoolean(room, 'include_leave', false, 'room.include_leave'),
    timeline: parseRoomEventFilter(
      optionalObject(room, 'timeline', 'room.timeline') ?? {},
      'room.timeline',
    ),
  };
}

/** Whether an event passes a room event filter. */
export function eventPasses(filter: RoomEventFilter, event: RoomEvent): boolean {
  if (filter.types !== undefined && !filter.types.some((type) => type.test(event.type))) {
    return false;
  }
  if (filter.notTypes.some((type) => type.test(event.type))) return false;
  if (filter.senders !== undefined && !filter.senders.has(event.sender)) return false;
  return !filter.notSenders.has(event.sender);
}

/** Whether a sync filter lets a room through. */
export function roomPasses(filter: SyncFilter, roomId: string): boolean {
  if (filter.rooms !== undefined && !filter.rooms.has(roomId)) return false;
  return !filter.notRooms.has(roomId);
}

/** Filters uploaded by each user, kept as uploaded so they can be read back unchanged. */
export class FilterStore {
  /** Each user's filters; a filter's id is its index. */
  readonly #filters = new Map<string, JsonObject[]>();

  /** Stores a filter (checked with `parseSyncFilter` first) and returns its id. */
  add(userId: string, filter: JsonObject): string {
    parseSyncFilter(filter);
    let filters = this.#filters.get(userId);
    if (filters === undefined) {
      filters = [];
      this.#filters.set(userId, filters);
    }
    filters.push(filter);
    return String(filters.length - 1);
  }

  /** A user's filter by id, as uploaded. */
  get(userId: string, filterId: string): JsonObject | undefined {
    if (!/^\d{1,9}$/.test(filterId)) return undefined;
    const filter = this.#filters.get(userId)?.[Number(filterId)];
    return isJsonObject(filter) ? filter : undefined;
  }
}
