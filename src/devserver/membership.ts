import { isUserId } from '../config/matrix-id.js';
import type { Homeserver } from './homeserver.js';
import type { JsonObject } from './json-input.js';
import { forbidden, invalidParam } from './matrix-error.js';
import type { RoomEvent } from './room-event.js';
import type { Membership, Room } from './room.js';

/** The content of a member event for `userId`, with their profile as it is now. */
export function memberContent(
  hs: Homeserver,
  userId: string,
  membership: Membership,
  extra: JsonObject = {},
): JsonObject {
  const account = hs.accounts.account(userId);
  const content: JsonObject = { membership, ...extra };
  if (account !== undefined) {
    content.displayname = account.displayname;
    if (account.avatarUrl !== undefined) content.avatar_url = account.avatarUrl;
  }
  return content;
}

/**
 * Joins `userId` to a room: allowed with an invite, or to anyone in a public room. Joining
 * a room one is in already changes nothing and returns undefined.
 */
export function joinRoom(hs: Homeserver, userId: string, room: Room): RoomEvent | undefined {
  const current = room.membership(userId);
  if (current === 'join') return undefined;
  if (current === 'ban') throw forbidden(`${userId} is banned from ${room.roomId}`);
  if (current !== 'invite' && room.joinRule !== 'public') {
    throw forbidden(`${userId} is not invited to ${room.roomId}`);
  }
  return hs.rooms.append(room, {
    sender: userId,
    type: 'm.room.member',
    stateKey: userId,
    content: memberContent(hs, userId, 'join'),
  });
}

/** Checks `userId` is joined to the room, the condition for nearly everything in it. */
export function requireJoined(room: Room, userId: string): void {
  if (room.membership(userId) !== 'join') {
    throw forbidden(`${userId} is not in room ${room.roomId}`);
  }
}

/** Checks a user id names a user of this server that exists. */
export function requireExistingUser(hs: Homeserver, userId: string, field: string): void {
  if (!isUserId(userId)) {
    throw invalidParam(`'${field}' is not a user id: ${JSON.stringify(userId)}`);
  }
  if (!hs.accounts.exists(userId)) {
    throw forbidden(`${userId} does not exist on this server; it cannot be invited`);
  }
}

/**
 * Invites `target` on behalf of `inviter`, who must be joined and allowed to invite. Inviting
 * someone already invited changes nothing; inviting a member or a banned user is refused.
 */
export function inviteUser(
  hs: Homeserver,
  inviter: string,
  room: Room,
  target: string,
  extra: JsonObject = {},
): RoomEvent | undefined {
  requireExistingUser(hs, target, 'user_id');
  requireJoined(room, inviter);
  if (room.powerLevel(inviter) < room.levelFor('invite')) {
    throw forbidden(`${inviter} may not invite users to ${room.roomId}`);
  }

  const current = room.membership(target);
  if (current === 'invite') return undefined;
  if (current === 'join') throw forbidden(`${target} is already in the room`);
  if (current === 'ban') throw forbidden(`${target} is banned from the room`);
  return hs.rooms.append(room, {
    sender: inviter,
    type: 'm.room.member',
    stateKey: target,
    content: memberContent(hs, target, 'invite', extra),
  });
}

/** `userId` leaves a room they are joined to, or declines an invite. */
export function leaveRoom(hs: Homeserver, userId: string, room: Room): RoomEvent {
  const current = room.membership(userId);
  if (current !== 'join' && current !== 'invite' && current !== 'knock') {
    throw forbidden(`${userId} is not in room ${room.roomId}`);
  }
  return hs.rooms.append(room, {
    sender: userId,
    type: 'm.room.member',
    stateKey: userId,
    content: { membership: 'leave' },
  });
}

/**
 * `sender` removes `target` from the room: `leave` kicks a member or withdraws an invite,
 * `ban` also keeps them out. The sender needs the power for it and more power than the target.
 */
export function removeUser(
  hs: Homeserver,
  sender: string,
  room: Room,
  target: string,
  membership: 'leave' | 'ban',
  reason: string | undefined,
): RoomEvent {
  requireJoined(room, sender);
  const action = membership === 'ban' ? 'ban' : 'kick';
  const senderLevel = room.powerLevel(sender);
  if (senderLevel < room.levelFor(action) || senderLevel <= room.powerLevel(target)) {
    throw forbidden(`${sender} may not ${action} ${target} from ${room.roomId}`);
  }
  const current = room.membership(target);
  if (membership === 'leave' && current !== 'join' && current !== 'invite') {
    throw forbidden(`${target} is not in room ${room.roomId}`);
  }
  const content: JsonObject = { membership };
  if (reason !== undefined) content.reason = reason;
  return hs.rooms.append(room, {
    sender,
    type: 'm.room.member',
    stateKey: target,
    content,
  });
}
