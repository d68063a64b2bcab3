import type { Homeserver } from './homeserver.js';

/** The `device_lists` of a sync response or the answer of `GET /keys/changes`. */
export interface DeviceListChanges {
  /** Users whose devices may have changed: query their keys again. */
  readonly changed: string[];
  /** Users who no longer share a room with the user: stop tracking their devices. */
  readonly left: string[];
}

/**
 * What changed in the device lists `userId` should track, after stream position `after` up to
 * `upTo`: users sharing a room with them whose devices changed, users who joined a room with
 * them (or whose room they joined), and users with whom they no longer share any room.
 */
export function deviceListChanges(
  hs: Homeserver,
  userId: string,
  after: number,
  upTo: number,
): DeviceListChanges {
  const changed = new Set<string>();
  const mayHaveLeft = new Set<string>();

  for (const user of hs.rooms.usersSharingRoomWith(userId)) {
    if (hs.keys.changedAfter(user, after)) changed.add(user);
  }

  for (const room of hs.rooms.roomsOf(userId)) {
    if (room.lastPosition <= after) continue;
    const mine = room.stateEvent('m.room.member', userId);
    if (mine === undefined) continue;
    const nowJoined = mine.content.membership === 'join';
    const wasJoined = mine.replaces?.content.membership === 'join';
    const mineIsNew = mine.position > after && mine.position <= upTo;

    if (mineIsNew && nowJoined && !wasJoined) {
      for (const member of room.members('join')) if (member !== userId) changed.add(member);
      continue;
    }
    if (mineIsNew && !nowJoined && wasJoined) {
      for (const member of room.members('join')) mayHaveLeft.add(member);
      continue;
    }
    if (!nowJoined) continue;

    for (const event of room.newestFirst(after, upTo)) {
      if (event.type !== 'm.room.member' || event.stateKey === undefined) continue;
      if (event.stateKey === userId) continue;
      if (event.content.membership === 'join') changed.add(event.stateKey);
      else if (event.replaces?.content.membership === 'join') mayHaveLeft.add(event.stateKey);
    }
  }

  const left = [...mayHaveLeft].filter(
    (user) => user !== userId && !hs.rooms.shareRoom(userId, user),
  );
  for (const user of left) changed.delete(user);
  return { changed: [...changed], left };
}
