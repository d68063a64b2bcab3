import type { Homeserver } from './homeserver.js';
import { notFound } from './matrix-error.js';
import type { Room } from './room.js';

/** The room a path names, by id or (when `#...`) by alias; M_NOT_FOUND when there is none. */
export function roomOf(hs: Homeserver, roomIdOrAlias: string): Room {
  const roomId = roomIdOrAlias.startsWith('#')
    ? hs.rooms.resolveAlias(roomIdOrAlias)
    : roomIdOrAlias;
  const room = roomId === undefined ? undefined : hs.rooms.room(roomId);
  if (room === undefined) throw notFound(`Room ${roomIdOrAlias} not found`);
  return room;
}
