import { checkKeyIds } from './device-keys.js';
import { deviceListChanges } from './device-list-changes.js';
import {
  describeValue,
  isJsonObject,
  optionalObject,
  optionalString,
  type JsonObject,
} from './json-input.js';
import { badJson, invalidParam, notFound } from './matrix-error.js';
import { ok, type Route } from './route.js';
import { parseToken } from './stream-token.js';

/** The object at `body[field]`, required. */
function requireObject(body: JsonObject, field: string, path = field): JsonObject {
  const value = optionalObject(body, field, path);
  if (value === undefined) throw badJson(`'${path}' is required`);
  return value;
}

/** To-device messaging and the end-to-end key endpoints. */
export function keyRoutes(): Route[] {
  return [
    {
      method: 'PUT',
      path: '/sendToDevice/{eventType}/{txnId}',
      auth: true,
      handle: ({ hs, device, params, body, key }) => {
        const earlier = hs.transactions.get(device.key, key);
        if (earlier !== undefined) return ok(earlier);

        const messages = requireObject(body, 'messages');
        const deliveries: { deviceKey: string; content: JsonObject }[] = [];
        const recipients = new Set<string>();
        for (const [userId, byDevice] of Object.entries(messages)) {
          if (!isJsonObject(byDevice)) {
            throw badJson(`'messages.${userId}' must be an object, got ${describeValue(byDevice)}`);
          }
          const account = hs.accounts.account(userId);
          for (const [deviceId, content] of Object.entries(byDevice)) {
            if (!isJsonObject(content)) {
              throw badJson(
                `'messages.${userId}.${deviceId}' must be an object, got ${describeValue(content)}`,
              );
            }
            // Messages to users or devices that do not exist are dropped, as servers do.
            const targets =
              deviceId === '*'
                ? [...(account?.devices.values() ?? [])]
                : [account?.devices.get(deviceId)].filter((each) => each !== undefined);
            for (const target of targets) {
              deliveries.push({ deviceKey: target.key, content });
              recipients.add(userId);
            }
          }
        }

        const position = hs.stream.next();
        for (const delivery of deliveries) {
          hs.inbox.push(delivery.deviceKey, position, {
            type: params.eventType!,
            sender: device.userId,
            content: delivery.content,
          });
        }
        hs.notifier.notify(recipients);
        hs.transactions.set(device.key, key, {});
        return ok({});
      },
    },
    {
      method: 'POST',
      path: '/keys/upload',
      auth: true,
      handle: ({ hs, device, body }) => {
        const deviceKeys = optionalObject(body, 'device_keys');
        const oneTimeKeys = optionalObject(body, 'one_time_keys');
        const fallbackKeys =
          optionalObject(body, 'fallback_keys') ??
          optionalObject(body, 'org.matrix.msc2732.fallback_keys');
        if (deviceKeys !== undefined) {
          const userId = optionalString(deviceKeys, 'user_id', 'device_keys.user_id');
          const deviceId = optionalString(deviceKeys, 'device_id', 'device_keys.device_id');
          if (userId !== device.userId || deviceId !== device.deviceId) {
            throw invalidParam(
              `'device_keys' are for ${describeValue(userId)} ${describeValue(deviceId)}, ` +
                `not this device (${device.userId} ${device.deviceId})`,
            );
          }
          optionalObject(deviceKeys, 'keys', 'device_keys.keys');
        }
        if (oneTimeKeys !== undefined) checkKeyIds(oneTimeKeys, 'one_time_keys');
        if (fallbackKeys !== undefined) checkKeyIds(fallbackKeys, 'fallback_keys');

        if (oneTimeKeys !== undefined) hs.keys.addOneTimeKeys(device.key, oneTimeKeys);
        if (fallbackKeys !== undefined) hs.keys.setFallbackKeys(device.key, fallbackKeys);
        if (deviceKeys !== undefined && hs.keys.setDeviceKeys(device.key, deviceKeys)) {
          hs.deviceListChanged(device.userId);
        }
        return ok({ one_time_key_counts: hs.keys.oneTimeKeyCounts(device.key) });
      },
    },
    {
      method: 'POST',
      path: '/keys/query',
      auth: true,
      handle: ({ hs, body }) => {
        const wanted = requireObject(body, 'device_keys');
        const result: Record<string, JsonObject> = {};
        for (const [userId, deviceIds] of Object.entries(wanted)) {
          if (!Array.isArray(deviceIds) || deviceIds.some((id) => typeof id !== 'string')) {
            throw badJson(
              `'device_keys.${userId}' must be a list of device ids, got ${describeValue(deviceIds)}`,
            );
          }
          const devices: JsonObject = {};
          for (const each of hs.accounts.account(userId)?.devices.values() ?? []) {
            if (deviceIds.length > 0 && !deviceIds.includes(each.deviceId)) continue;
            const keys = hs.keys.deviceKeys(each.key);
            if (keys === undefined) continue;
            const unsigned = isJsonObject(keys.unsigned) ? keys.unsigned : {};
            devices[each.deviceId] =
              each.displayName === undefined
                ? keys
                : { ...keys, unsigned: { ...unsigned, device_display_name: each.displayName } };
          }
          result[userId] = devices;
        }
        return ok({
          device_keys: result,
          failures: {},
          master_keys: {},
          self_signing_keys: {},
          user_signing_keys: {},
        });
      },
    },
    {
      method: 'POST',
      path: '/keys/claim',
      auth: true,
      handle: ({ hs, body }) => {
        const wanted = requireObject(body, 'one_time_keys');
        const claimed: Record<string, JsonObject> = {};
        for (const [userId, byDevice] of Object.entries(wanted)) {
          if (!isJsonObject(byDevice)) {
            throw badJson(
              `'one_time_keys.${userId}' must be an object, got ${describeValue(byDevice)}`,
            );
          }
          const account = hs.accounts.account(userId);
          const keys: JsonObject = {};
          for (const [deviceId, algorithm] of Object.entries(byDevice)) {
            if (typeof algorithm !== 'string') {
              throw badJson(
                `'one_time_keys.${userId}.${deviceId}' must be an algorithm name, ` +
                  `got ${describeValue(algorithm)}`,
              );
            }
            const target = account?.devices.get(deviceId);
            const key = target === undefined ? undefined : hs.keys.claim(target.key, algorithm);
            if (key !== undefined) keys[deviceId] = key;
          }
          claimed[userId] = keys;
        }
        return ok({ one_time_keys: claimed, failures: {} });
      },
    },
    {
      // Limitation: no server-side key backup. Clients ask for the current backup version at
      // start; M_NOT_FOUND is the spec's answer for "there is none".
      method: 'GET',
      path: '/room_keys/version',
      auth: true,
      handle: () => {
        throw notFound('No current backup version');
      },
    },
    {
      method: 'GET',
      path: '/keys/changes',
      auth: true,
      handle: ({ hs, device, query }) => {
        const current = hs.stream.current;
        const fromText = query.get('from');
        if (fromText === null) throw invalidParam(`'from' is required`);
        const from = parseToken(fromText, 'from', current);
        const toText = query.get('to');
        const to = toText === null ? current : parseToken(toText, 'to', current);
        return ok(deviceListChanges(hs, device.userId, from, to));
      },
    },
  ];
}
