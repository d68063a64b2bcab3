import { invalidParam } from './matrix-error.js';

// Every change the server makes (an event, an account-data write, a to-device message, a
// key change) takes the next position of one stream. A token names the point just after a
// position, so `since=s7` asks for everything at positions 8 and later.

/** The token for the point just after `position`. */
export function formatToken(position: number): string {
  return `s${position}`;
}

/**
 * The position a token names. Tokens from the future (another run of the server) or of
 * another shape are refused with M_INVALID_PARAM naming `param`.
 */
export function parseToken(token: string, param: string, current: number): number {
  const match = /^s(\d{1,15})$/.exec(token);
  const position = match === null ? Number.NaN : Number(match[1]);
  if (!Number.isSafeInteger(position) || position > current) {
    throw invalidParam(`'${param}' is not a token of this server: ${JSON.stringify(token)}`);
  }
  return position;
}

/** The one stream of positions every change of the server takes its place in. */
export class StreamCounter {
  /** The latest position handed out; 0 before the first. */
  #current = 0;

  /** The latest position handed out. */
  get current(): number {
    return this.#current;
  }

  /** Hands out the next position. */
  next(): number {
    this.#current += 1;
    return this.#current;
  }
}
