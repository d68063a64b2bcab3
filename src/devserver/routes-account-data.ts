import type { Homeserver } from './homeserver.js';
import { forbidden, notFound } from './matrix-error.js';
import { ok, type AuthedRouteRequest, type Route } from './route.js';

/** Checks the caller acts on their own account; returns the room, if one is named. */
function ownScope(request: AuthedRouteRequest): string | undefined {
  const { params, device, hs } = request;
  if (params.userId !== device.userId) {
    throw forbidden(`Cannot access the account data of ${params.userId}`);
  }
  const roomId = params.roomId;
  if (roomId !== undefined && hs.rooms.room(roomId) === undefined) {
    throw notFound(`Room ${roomId} not found`);
  }
  return roomId;
}

/** Writes account data and wakes the user's syncs. */
function writeAccountData(hs: Homeserver, request: AuthedRouteRequest): void {
  const roomId = ownScope(request);
  const userId = request.device.userId;
  hs.accountData.set(userId, roomId, request.params.type!, request.body, hs.stream.next());
  hs.notifier.notify([userId]);
}

/** Global and per-room account data, and sync filters. */
export function accountDataRoutes(): Route[] {
  const paths = [
    '/user/{userId}/account_data/{type}',
    '/user/{userId}/rooms/{roomId}/account_data/{type}',
  ];
  return [
    ...paths.flatMap((path): Route[] => [
      {
        method: 'GET',
        path,
        auth: true,
        handle: (request) => {
          const roomId = ownScope(request);
          const content = request.hs.accountData.get(
            request.device.userId,
            roomId,
            request.params.type!,
          );
          if (content === undefined)
            throw notFound(`No account data of type ${request.params.type}`);
          return ok(content);
        },
      },
      {
        method: 'PUT',
        path,
        auth: true,
        handle: (request) => {
          writeAccountData(request.hs, request);
          return ok({});
        },
      },
    ]),
    {
      method: 'POST',
      path: '/user/{userId}/filter',
      auth: true,
      handle: ({ hs, params, device, body }) => {
        if (params.userId !== device.userId) {
          throw forbidden(`Cannot create filters for ${params.userId}`);
        }
        return ok({ filter_id: hs.filters.add(device.userId, body) });
      },
    },
    {
      method: 'GET',
      path: '/user/{userId}/filter/{filterId}',
      auth: true,
      handle: ({ hs, params, device }) => {
        if (params.userId !== device.userId) {
          throw forbidden(`Cannot read the filters of ${params.userId}`);
        }
        const filter = hs.filters.get(device.userId, params.filterId!);
        if (filter === undefined) throw notFound(`No filter ${params.filterId}`);
        return ok(filter);
      },
    },
  ];
}
