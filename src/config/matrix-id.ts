// Grammar of Matrix identifiers (client-server spec, appendices "Identifier Grammar").

const IPV4 =
  '(?:(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV6 = '\\[[0-9A-Fa-f:.]{2,45}\\]';
// Labels of letters, digits and inner hyphens; no empty label, so no '..' and no trailing dot.
const DNS_NAME =
  '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*';
const PORT = '(?::(?:6553[0-5]|655[0-2]\\d|65[0-4]\\d\\d|6[0-4]\\d{3}|[1-5]\\d{4}|[1-9]\\d{0,3}))?';
const SERVER_NAME = `(?:${IPV6}|${IPV4}|${DNS_NAME})${PORT}`;

// Historical user ids may hold any printable ASCII but ':'; new ones are [a-z0-9._=\-/+].
const USER_ID = new RegExp(`^@[\\x21-\\x39\\x3B-\\x7E]+:${SERVER_NAME}$`);
// Room ids before room version 12 carry a server name; from version 12 on they are
// '!' followed by the unpadded URL-safe base64 of the create event's hash.
const ROOM_ID = new RegExp(`^!(?:[\\x21-\\x39\\x3B-\\x7E]+:${SERVER_NAME}|[A-Za-z0-9_-]{43})$`);
const USER_PATTERN = new RegExp(`^@\\*:${SERVER_NAME}$`);
const ROOM_PATTERN = new RegExp(`^!\\*:${SERVER_NAME}$`);

/** The longest identifier the spec allows, in bytes. */
export const MAX_ID_LENGTH = 255;

/** True when `id` is a well-formed Matrix user id such as `@alice:example.org`. */
export function isUserId(id: string): boolean {
  return id.length <= MAX_ID_LENGTH && USER_ID.test(id);
}

/** True when `id` is a well-formed Matrix room id such as `!abc:example.org`. */
export function isRoomId(id: string): boolean {
  return id.length <= MAX_ID_LENGTH && ROOM_ID.test(id);
}

/** True when `entry` is a whole-server user pattern such as `@*:example.org`. */
export function isUserPattern(entry: string): boolean {
  return entry.length <= MAX_ID_LENGTH && USER_PATTERN.test(entry);
}

/** True when `entry` is a whole-server room pattern such as `!*:example.org`. */
export function isRoomPattern(entry: string): boolean {
  return entry.length <= MAX_ID_LENGTH && ROOM_PATTERN.test(entry);
}

/**
 * The server name part of a user or room id (everything after the first ':'),
 * or undefined for a room id of version 12 and later, which names no server.
 */
export function serverNameOf(id: string): string | undefined {
  const colon = id.indexOf(':');
  return colon < 0 ? undefined : id.slice(colon + 1);
}

/** The id with its server part lower-cased, so `@a:Example.org` and `@a:example.org` match. */
export function normalizeId(id: string): string {
  const colon = id.indexOf(':');
  if (colon < 0) return id;
  for (let i = colon + 1; i < id.length; i++) {
    const code = id.charCodeAt(i);
    if (code >= 65 && code <= 90) return id.slice(0, colon + 1) + id.slice(colon + 1).toLowerCase();
  }
  return id;
}
