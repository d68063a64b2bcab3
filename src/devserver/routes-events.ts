import { parseRoomEventFilter, eventPasses, type RoomEventFilter } from './filters.js';
import type { Homeserver } from './homeserver.js';
import { describeValue, isJsonObject, optionalBoolean, optionalString } from './json-input.js';
import { badJson, forbidden, invalidParam, notFound } from './matrix-error.js';
import { requireJoined } from './membership.js';
import { ok, type Route } from './route.js';
import { clientEvent, type RoomEvent } from './room-event.js';
import { roomOf } from './room-lookup.js';
import { sendMessageEvent } from './room-send.js';
import { formatToken, parseToken } from './stream-token.js';

/** Events `/messages` returns when the request names no limit, and the most it returns. */
const MESSAGES_DEFAULT_LIMIT = 10;
const MESSAGES_MAX_LIMIT = 1000;

/** The `limit` query parameter, checked. */
function limitParam(query: URLSearchParams): number {
  const text = query.get('limit');
  if (text === null) return MESSAGES_DEFAULT_LIMIT;
  const limit = Number(text);
  if (!/^\d{1,9}$/.test(text) || limit < 1) {
    throw invalidParam(`'limit' must be a positive integer, got ${JSON.stringify(text)}`);
  }
  return Math.min(limit, MESSAGES_MAX_LIMIT);
}

/** The `filter` query parameter of `/messages`: inline RoomEventFilter JSON. */
function filterParam(query: URLSearchParams): RoomEventFilter {
  const text = query.get('filter');
  if (text === null) return parseRoomEventFilter({}, 'filter');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw invalidParam(`'filter' is not JSON: ${describeValue(text)}`);
  }
  if (!isJsonObject(json)) throw invalidParam(`'filter' must be a JSON object`);
  return parseRoomEventFilter(json, 'filter');
}

/** Up to `limit` events that pass `filter`, from an iterator in paging order. */
function page(
  events: Iterable<RoomEvent>,
  filter: RoomEventFilter,
  limit: number,
): { events: RoomEvent[]; more: boolean } {
  const picked: RoomEvent[] = [];
  for (const event of events) {
    if (!eventPasses(filter, event)) continue;
    if (picked.length === limit) return { events: picked, more: true };
    picked.push(event);
  }
  return { events: picked, more: false };
}

/** Message sends, history, single events, and the read-marker, typing and receipt calls. */
export function eventRoutes(): Route[] {
  return [
    {
      method: 'PUT',
      path: '/rooms/{roomId}/send/{eventType}/{txnId}',
      auth: true,
      handle: ({ hs, device, params, body, key }) => {
        const earlier = hs.transactions.get(device.key, key);
        if (earlier !== undefined) return ok(earlier);

        const room = roomOf(hs, params.roomId!);
        requireJoined(room, device.userId);
        hs.takeSendToken(device.userId);
        const event = sendMessageEvent(hs, device, room, params.eventType!, body, params.txnId!);
        const answer = { event_id: event.eventId };
        hs.transactions.set(device.key, key, answer);
        return ok(answer);
      },
    },
    {
      method: 'GET',
      path: '/rooms/{roomId}/messages',
      auth: true,
      handle: ({ hs, device, params, query }) => {
        const room = roomOf(hs, params.roomId!);
        requireJoined(room, device.userId);
        const dir = query.get('dir') ?? 'b';
        if (dir !== 'b' && dir !== 'f') {
          throw invalidParam(`'dir' must be b or f, got ${JSON.stringify(dir)}`);
        }
        const current = hs.stream.current;
        const fromText = query.get('from');
        const toText = query.get('to');
        const limit = limitParam(query);
        const filter = filterParam(query);
        const from =
          fromText === null ? (dir === 'b' ? current : 0) : parseToken(fromText, 'from', current);
        const view = { now: hs.clock(), deviceKey: device.key, withRoomId: true };

        let result: { events: RoomEvent[]; more: boolean };
        let end: string | undefined;
        if (dir === 'b') {
          const to = toText === null ? 0 : parseToken(toText, 'to', current);
          result = page(room.newestFirst(to, from), filter, limit);
          const last = result.events.at(-1);
          if (result.more && last !== undefined) end = formatToken(last.position - 1);
        } else {
          const to = toText === null ? current : parseToken(toText, 'to', current);
          result = page(room.eventsBetween(from, to), filter, limit);
          const last = result.events.at(-1);
          if (result.more && last !== undefined) end = formatToken(last.position);
        }
        const answer: Record<string, unknown> = {
          start: formatToken(from),
          chunk: result.events.map((event) => clientEvent(event, view)),
          state: [],
        };
        if (end !== undefined) answer.end = end;
        return ok(answer);
      },
    },
    {
      method: 'GET',
      path: '/rooms/{roomId}/event/{eventId}',
      auth: true,
      handle: ({ hs, device, params }) => {
        const room = roomOf(hs, params.roomId!);
        requireJoined(room, device.userId);
        const event = hs.rooms.event(params.eventId!);
        if (event === undefined || event.roomId !== room.roomId) {
          throw notFound(`Event ${params.eventId} not found`);
        }
        return ok(clientEvent(event, { now: hs.clock(), deviceKey: device.key, withRoomId: true }));
      },
    },
    {
      method: 'POST',
      path: '/rooms/{roomId}/read_markers',
      auth: true,
      handle: ({ hs, device, params, body }) => {
        const room = roomOf(hs, params.roomId!);
        requireJoined(room, device.userId);
        const fullyRead = optionalString(body, 'm.fully_read');
        optionalString(body, 'm.read');
        optionalString(body, 'm.read.private');
        if (fullyRead !== undefined) {
          setFullyRead(hs, device.userId, room.roomId, fullyRead);
        }
        return ok({});
      },
    },
    {
      // Limitation: typing notices are accepted and dropped; sync's ephemeral stays empty.
      method: 'PUT',
      path: '/rooms/{roomId}/typing/{userId}',
      auth: true,
      handle: ({ hs, device, params, body }) => {
        if (params.userId !== device.userId) {
          throw forbidden(`Cannot set the typing state of ${params.userId}`);
        }
        requireJoined(roomOf(hs, params.roomId!), device.userId);
        if (body.typing === undefined) throw badJson(`'typing' is required`);
        optionalBoolean(body, 'typing', false);
        return ok({});
      },
    },
    {
      // Limitation: receipts are accepted and dropped, like typing notices.
      method: 'POST',
      path: '/rooms/{roomId}/receipt/{receiptType}/{eventId}',
      auth: true,
      handle: ({ hs, device, params }) => {
        requireJoined(roomOf(hs, params.roomId!), device.userId);
        return ok({});
      },
    },
  ];
}

/** Stores the fully-read marker as room account data, where clients read it back. */
function setFullyRead(hs: Homeserver, userId: string, roomId: string, eventId: string): void {
  hs.accountData.set(userId, roomId, 'm.fully_read', { event_id: eventId }, hs.stream.next());
  hs.notifier.notify([userId]);
}
