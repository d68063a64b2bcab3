import { isUserId } from '../config/matrix-id.js';
import type { Homeserver } from './homeserver.js';
import { requireString } from './json-input.js';
import { forbidden, invalidParam, notFound } from './matrix-error.js';
import { memberContent } from './membership.js';
import { ok, type Route, type RouteReply } from './route.js';
import { ROOM_VERSION } from './room.js';

/** Spec versions this server speaks, as `GET /versions` lists them. */
export const SPEC_VERSIONS = ['r0.6.1', 'v1.1', 'v1.2', 'v1.3', 'v1.4', 'v1.5', 'v1.6'];

/** The push rule kinds of an empty rule set. */
const EMPTY_RULESET = { override: [], content: [], room: [], sender: [], underride: [] };

/** The profile of a user of this server, or M_NOT_FOUND. */
function profileOf(hs: Homeserver, userId: string): { displayname: string; avatar_url?: string } {
  const account = isUserId(userId) ? hs.accounts.account(userId) : undefined;
  if (account === undefined) throw notFound(`Profile of ${userId} not found`);
  return account.avatarUrl === undefined
    ? { displayname: account.displayname }
    : { displayname: account.displayname, avatar_url: account.avatarUrl };
}

/** Sets a profile field and restates the user's member event in every room they are in. */
function setProfileField(
  hs: Homeserver,
  caller: string,
  userId: string,
  field: 'displayname' | 'avatar_url',
  value: string,
): RouteReply {
  if (caller !== userId) throw forbidden(`Cannot set the profile of ${userId}`);
  const account = hs.accounts.account(userId);
  if (account === undefined) throw notFound(`Profile of ${userId} not found`);
  if (field === 'displayname') account.displayname = value;
  else account.avatarUrl = value;

  for (const room of hs.rooms.roomsOf(userId)) {
    if (room.membership(userId) !== 'join') continue;
    hs.rooms.append(room, {
      sender: userId,
      type: 'm.room.member',
      stateKey: userId,
      content: memberContent(hs, userId, 'join'),
    });
  }
  return ok({});
}

/** Discovery, capabilities, push rules, TURN and profiles. */
export function discoveryRoutes(baseUrl: () => string): Route[] {
  return [
    {
      method: 'GET',
      path: '/_matrix/client/versions',
      absolute: true,
      auth: false,
      handle: () => ok({ versions: SPEC_VERSIONS, unstable_features: {} }),
    },
    {
      method: 'GET',
      path: '/.well-known/matrix/client',
      absolute: true,
      auth: false,
      handle: () => ok({ 'm.homeserver': { base_url: baseUrl() } }),
    },
    {
      method: 'GET',
      path: '/capabilities',
      auth: true,
      handle: () =>
        ok({
          capabilities: {
            'm.change_password': { enabled: false },
            'm.room_versions': { default: ROOM_VERSION, available: { [ROOM_VERSION]: 'stable' } },
            'm.set_displayname': { enabled: true },
            'm.set_avatar_url': { enabled: true },
            'm.3pid_changes': { enabled: false },
          },
        }),
    },
    ...['/pushrules/', '/pushrules'].map(
      (path): Route => ({
        method: 'GET',
        path,
        auth: true,
        handle: () => ok({ global: EMPTY_RULESET }),
      }),
    ),
    {
      method: 'GET',
      path: '/pushrules/global/',
      auth: true,
      handle: () => ok(EMPTY_RULESET),
    },
    {
      // Limitation: no TURN server. Like a homeserver without one, the answer is an empty
      // object, which clients take as "use no relay"; calls work on loopback and LANs only.
      method: 'GET',
      path: '/voip/turnServer',
      auth: true,
      handle: () => ok({}),
    },
    {
      method: 'GET',
      path: '/profile/{userId}',
      auth: false,
      handle: ({ hs, params }) => ok(profileOf(hs, params.userId!)),
    },
    {
      method: 'GET',
      path: '/profile/{userId}/{field}',
      auth: false,
      handle: ({ hs, params }) => {
        const field = params.field!;
        if (field !== 'displayname' && field !== 'avatar_url') {
          throw invalidParam(`Unknown profile field ${JSON.stringify(field)}`);
        }
        const profile = profileOf(hs, params.userId!);
        const value = profile[field];
        if (value === undefined) throw notFound(`${params.userId} has no ${field}`);
        return ok({ [field]: value });
      },
    },
    {
      method: 'PUT',
      path: '/profile/{userId}/{field}',
      auth: true,
      handle: ({ hs, params, body, device }) => {
        const field = params.field!;
        if (field !== 'displayname' && field !== 'avatar_url') {
          throw invalidParam(`Unknown profile field ${JSON.stringify(field)}`);
        }
        const value = requireString(body, field);
        return setProfileField(hs, device.userId, params.userId!, field, value);
      },
    },
  ];
}
