import type { Homeserver } from './homeserver.js';
import { newSessionId } from './ids.js';
import {
  describeValue,
  optionalBoolean,
  optionalObject,
  optionalString,
  type JsonObject,
} from './json-input.js';
import { forbidden, invalidParam, MatrixError } from './matrix-error.js';
import { ok, type Route, type RouteReply } from './route.js';
import type { Account } from './accounts.js';

/** The one interactive-auth flow registration offers. */
const REGISTER_FLOWS = [{ stages: ['m.login.dummy'] }];

/** Logs a device in and answers as `/register` and `/login` do. */
function loginReply(
  hs: Homeserver,
  account: Account,
  body: JsonObject,
  extra: JsonObject = {},
): RouteReply {
  const deviceId = optionalString(body, 'device_id');
  const displayName = optionalString(body, 'initial_device_display_name');
  const { device, created } = hs.accounts.login(account, deviceId, displayName);
  if (created) hs.deviceListChanged(account.userId);
  return ok({
    user_id: account.userId,
    access_token: device.accessToken,
    device_id: device.deviceId,
    home_server: hs.serverName,
    ...extra,
  });
}

/** The interactive-auth challenge: what a client must complete to register. */
function authChallenge(session: string, error?: string): RouteReply {
  const body: JsonObject = { flows: REGISTER_FLOWS, params: {}, session, completed: [] };
  if (error !== undefined) Object.assign(body, { errcode: 'M_FORBIDDEN', error });
  return { status: 401, body };
}

/** A localpart from a login identifier: a bare localpart or a full user id of this server. */
function localpartOf(hs: Homeserver, user: string): string | undefined {
  if (!user.startsWith('@')) return user.toLowerCase();
  const suffix = `:${hs.serverName}`;
  return user.endsWith(suffix) ? user.slice(1, -suffix.length) : undefined;
}

/** Registration, login, logout, whoami and the device list. */
export function authRoutes(baseUrl: () => string): Route[] {
  return [
    {
      method: 'POST',
      path: '/register',
      auth: false,
      handle: async ({ hs, body, query }) => {
        const kind = query.get('kind') ?? 'user';
        if (kind === 'guest') {
          throw new MatrixError(403, 'M_GUEST_ACCESS_FORBIDDEN', 'Guest access is not allowed');
        }
        if (kind !== 'user') throw invalidParam(`'kind' must be user or guest, got ${kind}`);

        const username = optionalString(body, 'username');
        const password = optionalString(body, 'password');
        const inhibitLogin = optionalBoolean(body, 'inhibit_login', false);
        optionalString(body, 'device_id');
        optionalString(body, 'initial_device_display_name');
        const localpart =
          username ?? `user${hs.accounts.size + 1}_${newSessionId().slice(0, 6).toLowerCase()}`;
        hs.accounts.checkLocalpart(localpart);

        const auth = optionalObject(body, 'auth');
        const session = optionalString(auth ?? {}, 'session', 'auth.session') ?? newSessionId();
        if (auth === undefined) return authChallenge(session);
        const type = optionalString(auth, 'type', 'auth.type');
        if (type !== 'm.login.dummy') {
          return authChallenge(session, `'auth.type' ${describeValue(type)} is not offered`);
        }

        const account = await hs.accounts.register(localpart, password);
        if (inhibitLogin) return ok({ user_id: account.userId, home_server: hs.serverName });
        return loginReply(hs, account, body);
      },
    },
    {
      method: 'GET',
      path: '/register/available',
      auth: false,
      handle: ({ hs, query }) => {
        const username = query.get('username');
        if (username === null) throw invalidParam(`'username' is required`);
        hs.accounts.checkLocalpart(username);
        return ok({ available: true });
      },
    },
    {
      method: 'GET',
      path: '/login',
      auth: false,
      handle: () => ok({ flows: [{ type: 'm.login.password' }] }),
    },
    {
      method: 'POST',
      path: '/login',
      auth: false,
      handle: async ({ hs, body }) => {
        const type = optionalString(body, 'type');
        if (type !== 'm.login.password') {
          throw invalidParam(`'type' must be m.login.password, got ${describeValue(type)}`);
        }
        const identifier = optionalObject(body, 'identifier');
        let user: string | undefined;
        if (identifier !== undefined) {
          const idType = optionalString(identifier, 'type', 'identifier.type');
          if (idType !== 'm.id.user') {
            throw invalidParam(`'identifier.type' must be m.id.user, got ${describeValue(idType)}`);
          }
          user = optionalString(identifier, 'user', 'identifier.user');
        } else {
          user = optionalString(body, 'user');
        }
        if (user === undefined) throw invalidParam(`'identifier.user' is required`);
        const password = optionalString(body, 'password');
        if (password === undefined) throw invalidParam(`'password' is required`);

        const localpart = localpartOf(hs, user);
        const account =
          localpart === undefined
            ? undefined
            : hs.accounts.account(hs.accounts.userIdOf(localpart));
        if (account === undefined || !(await hs.accounts.verifyPassword(account, password))) {
          throw forbidden('Invalid username or password');
        }
        return loginReply(hs, account, body, {
          well_known: { 'm.homeserver': { base_url: baseUrl() } },
        });
      },
    },
    {
      method: 'POST',
      path: '/logout',
      auth: true,
      handle: ({ hs, device }) => {
        hs.removeDevice(device);
        return ok({});
      },
    },
    {
      method: 'POST',
      path: '/logout/all',
      auth: true,
      handle: ({ hs, device }) => {
        const account = hs.accounts.account(device.userId);
        for (const each of [...(account?.devices.values() ?? [])]) hs.removeDevice(each);
        return ok({});
      },
    },
    {
      method: 'GET',
      path: '/account/whoami',
      auth: true,
      handle: ({ device }) =>
        ok({ user_id: device.userId, device_id: device.deviceId, is_guest: false }),
    },
    {
      method: 'GET',
      path: '/devices',
      auth: true,
      handle: ({ hs, device }) => {
        const devices = [...(hs.accounts.account(device.userId)?.devices.values() ?? [])];
        return ok({
          devices: devices.map((each) => ({
            device_id: each.deviceId,
            display_name: each.displayName ?? null,
          })),
        });
      },
    },
  ];
}
