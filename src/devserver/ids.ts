import { randomBytes } from 'node:crypto';

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `length` random ASCII letters. */
function randomLetters(length: number, alphabet = LETTERS): string {
  const bytes = randomBytes(length);
  let text = '';
  // 256 is not a multiple of 52, so a few letters are a little likelier; ids need no more.
  for (const byte of bytes) text += alphabet[byte % alphabet.length];
  return text;
}

/** A room id of the room-version-10 kind: `!opaque:server`. */
export function newRoomId(serverName: string): string {
  return `!${randomLetters(18)}:${serverName}`;
}

/**
 * An event id of the room-version-4-and-later kind: `$` and 43 URL-safe base64 characters.
 * Real servers derive it from the event's hash; here it is random, which clients cannot tell.
 */
export function newEventId(): string {
  return `$${randomBytes(32).toString('base64url')}`;
}

/** A fresh access token. */
export function newAccessToken(): string {
  return `vbdev_${randomBytes(24).toString('base64url')}`;
}

/** A device id in the style servers generate: ten capital letters. */
export function newDeviceId(): string {
  return randomLetters(10, LETTERS.slice(0, 26));
}

/** An opaque id for an interactive-auth session. */
export function newSessionId(): string {
  return randomBytes(16).toString('base64url');
}
