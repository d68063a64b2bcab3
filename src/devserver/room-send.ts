import type { Device } from './accounts.js';
import type { Homeserver } from './homeserver.js';
import { canonicalJson, describeValue, type JsonObject } from './json-input.js';
import { forbidden, invalidParam, MatrixError } from './matrix-error.js';
import { inviteUser, joinRoom, leaveRoom, removeUser, requireJoined } from './membership.js';
import type { EventDraft } from './room-directory.js';
import type { RoomEvent } from './room-event.js';
import type { Room } from './room.js';

/** The largest event the spec allows, in bytes of JSON. */
export const MAX_EVENT_BYTES = 65_536;

/** Refuses a draft whose event, once the server has filled it in, would exceed the cap. */
function checkSize(room: Room, draft: EventDraft): void {
  const sized = {
    ...draft,
    room_id: room.roomId,
    event_id: `$${'x'.repeat(43)}`,
    origin_server_ts: 1e12,
    unsigned: { age: 1e9 },
  };
  const bytes = Buffer.byteLength(JSON.stringify(sized), 'utf8');
  if (bytes > MAX_EVENT_BYTES) {
    throw new MatrixError(
      413,
      'M_TOO_LARGE',
      `Event of ${bytes} bytes is over the limit of ${MAX_EVENT_BYTES}`,
    );
  }
}

/** Sends a message event from a device; the sender must be joined and allowed the type. */
export function sendMessageEvent(
  hs: Homeserver,
  device: Device,
  room: Room,
  type: string,
  content: JsonObject,
  txnId: string,
): RoomEvent {
  const sender = device.userId;
  requireJoined(room, sender);
  if (room.powerLevel(sender) < room.levelToSend(type, false)) {
    throw forbidden(`${sender} may not send ${type} events in ${room.roomId}`);
  }
  const draft: EventDraft = {
    sender,
    type,
    content,
    transaction: { deviceKey: device.key, txnId },
  };
  checkSize(room, draft);
  return hs.rooms.append(room, draft);
}

/**
 * Sets a state event. Membership goes through the membership rules; other state needs a
 * joined sender with the power for the type. Setting the same content again by the same
 * sender returns the event already there, as homeservers do, instead of a duplicate.
 */
export function putStateEvent(
  hs: Homeserver,
  sender: string,
  room: Room,
  type: string,
  stateKey: string,
  content: JsonObject,
): RoomEvent {
  if (type === 'm.room.member') return setMembership(hs, sender, room, stateKey, content);
  if (type === 'm.room.create') throw forbidden('m.room.create cannot be changed');

  requireJoined(room, sender);
  if (stateKey.startsWith('@') && stateKey !== sender) {
    throw forbidden(`A state key starting with '@' must be the sender's own user id`);
  }
  if (room.powerLevel(sender) < room.levelToSend(type, true)) {
    throw forbidden(`${sender} may not set ${type} state in ${room.roomId}`);
  }
  const draft: EventDraft = { sender, type, stateKey, content };
  checkSize(room, draft);

  const current = room.stateEvent(type, stateKey);
  if (current?.sender === sender && canonicalJson(current.content) === canonicalJson(content)) {
    return current;
  }
  return hs.rooms.append(room, draft);
}

/** Applies an `m.room.member` state event as the action it stands for. */
function setMembership(
  hs: Homeserver,
  sender: string,
  room: Room,
  target: string,
  content: JsonObject,
): RoomEvent {
  const membership = content.membership;
  const reason = typeof content.reason === 'string' ? content.reason : undefined;
  const unchanged = (): RoomEvent => {
    const event = room.stateEvent('m.room.member', target);
    if (event === undefined) throw new Error('a member event is missing after a no-op');
    return event;
  };

  switch (membership) {
    case 'join': {
      if (target !== sender) throw forbidden('Only the user themselves can join');
      if (room.membership(sender) !== 'join') return joinRoom(hs, sender, room) ?? unchanged();
      // A member setting their own member event again: a per-room profile change.
      const draft: EventDraft = {
        sender,
        type: 'm.room.member',
        stateKey: sender,
        content: { ...content, membership: 'join' },
      };
      checkSize(room, draft);
      return hs.rooms.append(room, draft);
    }
    case 'invite': {
      const extra: JsonObject = content.is_direct === true ? { is_direct: true } : {};
      return inviteUser(hs, sender, room, target, extra) ?? unchanged();
    }
    case 'leave':
      return target === sender
        ? leaveRoom(hs, sender, room)
        : removeUser(hs, sender, room, target, 'leave', reason);
    case 'ban':
      return removeUser(hs, sender, room, target, 'ban', reason);
    default:
      throw invalidParam(
        `'membership' must be join, invite, leave or ban, got ${describeValue(membership)}`,
      );
  }
}
