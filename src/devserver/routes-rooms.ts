import type { Homeserver } from './homeserver.js';
import { optionalString, requireString } from './json-input.js';
import { notFound } from './matrix-error.js';
import { inviteUser, joinRoom, leaveRoom, removeUser, requireJoined } from './membership.js';
import { ok, type AuthedRouteRequest, type Route, type RouteReply } from './route.js';
import { createRoom } from './room-creation.js';
import { clientEvent } from './room-event.js';
import { roomOf } from './room-lookup.js';
import { putStateEvent } from './room-send.js';
import type { Membership } from './room.js';

/** Joins a room named by id or alias and answers with its id. */
function join(hs: Homeserver, userId: string, roomIdOrAlias: string): RouteReply {
  const room = roomOf(hs, roomIdOrAlias);
  joinRoom(hs, userId, room);
  return ok({ room_id: room.roomId });
}

/** Answers the current content of one state event. */
function getState(request: AuthedRouteRequest): RouteReply {
  const { hs, params, device, query } = request;
  const room = roomOf(hs, params.roomId!);
  requireJoined(room, device.userId);
  const event = room.stateEvent(params.type!, params.stateKey ?? '');
  if (event === undefined) {
    throw notFound(`No ${params.type} state with key ${JSON.stringify(params.stateKey ?? '')}`);
  }
  if (query.get('format') === 'event') {
    return ok(clientEvent(event, { now: hs.clock(), deviceKey: device.key, withRoomId: true }));
  }
  return ok(event.content);
}

/** Sets one state event and answers with its id. */
function setState(request: AuthedRouteRequest): RouteReply {
  const { hs, params, device, body } = request;
  const room = roomOf(hs, params.roomId!);
  hs.takeSendToken(device.userId);
  const event = putStateEvent(hs, device.userId, room, params.type!, params.stateKey ?? '', body);
  return ok({ event_id: event.eventId });
}

/** Room creation, membership, members and state. */
export function roomRoutes(): Route[] {
  return [
    {
      method: 'POST',
      path: '/createRoom',
      auth: true,
      handle: ({ hs, device, body }) => ok({ room_id: createRoom(hs, device.userId, body).roomId }),
    },
    {
      method: 'POST',
      path: '/rooms/{roomId}/join',
      auth: true,
      handle: ({ hs, device, params }) => join(hs, device.userId, params.roomId!),
    },
    {
      method: 'POST',
      path: '/join/{roomIdOrAlias}',
      auth: true,
      handle: ({ hs, device, params }) => join(hs, device.userId, params.roomIdOrAlias!),
    },
    {
      method: 'POST',
      path: '/rooms/{roomId}/invite',
      auth: true,
      handle: ({ hs, device, params, body }) => {
        const room = roomOf(hs, params.roomId!);
        const reason = optionalString(body, 'reason');
        inviteUser(
          hs,
          device.userId,
          room,
          requireString(body, 'user_id'),
          reason === undefined ? {} : { reason },
        );
        return ok({});
      },
    },
    {
      method: 'POST',
      path: '/rooms/{roomId}/leave',
      auth: true,
      handle: ({ hs, device, params }) => {
        leaveRoom(hs, device.userId, roomOf(hs, params.roomId!));
        return ok({});
      },
    },
    {
      method: 'POST',
      path: '/rooms/{roomId}/forget',
      auth: true,
      handle: ({ hs, params }) => {
        roomOf(hs, params.roomId!);
        return ok({});
      },
    },
    ...(['kick', 'ban'] as const).map(
      (action): Route => ({
        method: 'POST',
        path: `/rooms/{roomId}/${action}`,
        auth: true,
        handle: ({ hs, device, params, body }) => {
          const room = roomOf(hs, params.roomId!);
          const target = requireString(body, 'user_id');
          const membership = action === 'ban' ? 'ban' : 'leave';
          removeUser(hs, device.userId, room, target, membership, optionalString(body, 'reason'));
          return ok({});
        },
      }),
    ),
    {
      method: 'GET',
      path: '/joined_rooms',
      auth: true,
      handle: ({ hs, device }) =>
        ok({
          joined_rooms: hs.rooms
            .roomsOf(device.userId)
            .filter((room) => room.membership(device.userId) === 'join')
            .map((room) => room.roomId),
        }),
    },
    {
      method: 'GET',
      path: '/rooms/{roomId}/members',
      auth: true,
      handle: ({ hs, device, params, query }) => {
        const room = roomOf(hs, params.roomId!);
        requireJoined(room, device.userId);
        const only = query.get('membership') as Membership | null;
        const not = query.get('not_membership') as Membership | null;
        const view = { now: hs.clock(), deviceKey: device.key, withRoomId: true };
        const chunk = room
          .memberEvents()
          .filter((event) => {
            const membership = event.content.membership;
            return (only === null || membership === only) && (not === null || membership !== not);
          })
          .map((event) => clientEvent(event, view));
        return ok({ chunk });
      },
    },
    {
      method: 'GET',
      path: '/rooms/{roomId}/joined_members',
      auth: true,
      handle: ({ hs, device, params }) => {
        const room = roomOf(hs, params.roomId!);
        requireJoined(room, device.userId);
        const joined: Record<string, { display_name?: unknown; avatar_url?: unknown }> = {};
        for (const userId of room.members('join')) {
          const content = room.stateEvent('m.room.member', userId)?.content ?? {};
          joined[userId] = { display_name: content.displayname, avatar_url: content.avatar_url };
        }
        return ok({ joined });
      },
    },
    {
      method: 'GET',
      path: '/rooms/{roomId}/state',
      auth: true,
      handle: ({ hs, device, params }) => {
        const room = roomOf(hs, params.roomId!);
        requireJoined(room, device.userId);
        const view = { now: hs.clock(), deviceKey: device.key, withRoomId: true };
        return ok(room.stateEvents().map((event) => clientEvent(event, view)));
      },
    },
    ...['/rooms/{roomId}/state/{type}', '/rooms/{roomId}/state/{type}/{stateKey}'].flatMap(
      (path): Route[] => [
        { method: 'GET', path, auth: true, handle: getState },
        { method: 'PUT', path, auth: true, handle: setState },
      ],
    ),
    {
      method: 'GET',
      path: '/directory/room/{alias}',
      auth: false,
      handle: ({ hs, params }) => {
        const roomId = hs.rooms.resolveAlias(params.alias!);
        if (roomId === undefined) throw notFound(`Room alias ${params.alias} not found`);
        return ok({ room_id: roomId, servers: [hs.serverName] });
      },
    },
  ];
}
