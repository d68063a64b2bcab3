import type { Device } from './accounts.js';
import { deviceListChanges } from './device-list-changes.js';
import { roomPasses, type SyncFilter } from './filters.js';
import type { Homeserver } from './homeserver.js';
import type { JsonObject } from './json-input.js';
import { formatToken } from './stream-token.js';
import {
  invitedRoomEntry,
  joinedRoomEntry,
  leftRoomEntry,
  type RoomSyncContext,
} from './sync-rooms.js';

/** A checked `GET /sync` request. */
export interface SyncRequest {
  /** The `since` position, undefined for an initial sync. */
  readonly since: number | undefined;
  readonly filter: SyncFilter;
  readonly fullState: boolean;
}

/** A sync response and whether it carries nothing new (a long-poll then waits on). */
export interface SyncResult {
  readonly body: JsonObject;
  readonly empty: boolean;
}

/**
 * The `GET /sync` response for a device, describing the server as it is now. To-device
 * messages up to `since` count as received and are dropped first.
 */
export function buildSync(hs: Homeserver, device: Device, request: SyncRequest): SyncResult {
  const { since, filter, fullState } = request;
  const userId = device.userId;
  const upTo = hs.stream.current;
  if (since !== undefined) hs.inbox.acknowledge(device.key, since);

  const context: RoomSyncContext = {
    hs,
    userId,
    filter,
    view: { now: hs.clock(), deviceKey: device.key, withRoomId: false },
    since,
    upTo,
    fullState,
  };
  const join: JsonObject = {};
  const invite: JsonObject = {};
  const leave: JsonObject = {};
  for (const room of hs.rooms.roomsOf(userId)) {
    if (!roomPasses(filter, room.roomId)) continue;
    const member = room.stateEvent('m.room.member', userId);
    if (member === undefined) continue;
    const isNew = since === undefined || member.position > since;
    switch (member.content.membership) {
      case 'join': {
        const entry = joinedRoomEntry(context, room, member);
        if (entry !== undefined) join[room.roomId] = entry;
        break;
      }
      case 'invite':
        if (isNew) invite[room.roomId] = invitedRoomEntry(context, room, member);
        break;
      case 'leave':
      case 'ban':
        if (since === undefined ? filter.includeLeave : isNew) {
          leave[room.roomId] = leftRoomEntry(context, room, member);
        }
        break;
      default:
        break;
    }
  }

  const toDevice = hs.inbox.pending(device.key, upTo);
  const accountData = hs.accountData.changedSince(userId, undefined, since);
  const deviceLists =
    since === undefined ? { changed: [], left: [] } : deviceListChanges(hs, userId, since, upTo);

  const body: JsonObject = {
    next_batch: formatToken(upTo),
    rooms: { join, invite, leave, knock: {} },
    presence: { events: [] },
    account_data: { events: accountData },
    to_device: { events: toDevice },
    device_lists: deviceLists,
    device_one_time_keys_count: hs.keys.oneTimeKeyCounts(device.key),
    device_unused_fallback_key_types: hs.keys.unusedFallbackKeyTypes(device.key),
  };
  const empty =
    Object.keys(join).length === 0 &&
    Object.keys(invite).length === 0 &&
    Object.keys(leave).length === 0 &&
    toDevice.length === 0 &&
    accountData.length === 0 &&
    deviceLists.changed.length === 0 &&
    deviceLists.left.length === 0;
  return { body, empty };
}
