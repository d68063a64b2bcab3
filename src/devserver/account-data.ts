import type { JsonObject } from './json-input.js';

/** One account-data entry and the stream position of its last write. */
interface Entry {
  readonly position: number;
  readonly content: JsonObject;
}

/** A `{ type, content }` pair as sync delivers account data. */
export interface AccountDataEvent {
  readonly type: string;
  readonly content: JsonObject;
}

/** Per-user account data, global and per room. */
export class AccountDataStore {
  /** Entries by user id, then by a scope key ('' for global, else the room id), then type. */
  readonly #entries = new Map<string, Map<string, Map<string, Entry>>>();

  /** Writes an entry at stream position `position`. */
  set(
    userId: string,
    roomId: string | undefined,
    type: string,
    content: JsonObject,
    position: number,
  ): void {
    let scopes = this.#entries.get(userId);
    if (scopes === undefined) {
      scopes = new Map();
      this.#entries.set(userId, scopes);
    }
    const scope = roomId ?? '';
    let types = scopes.get(scope);
    if (types === undefined) {
      types = new Map();
      scopes.set(scope, types);
    }
    types.set(type, { position, content });
  }

  /** The content of an entry, if it was ever written. */
  get(userId: string, roomId: string | undefined, type: string): JsonObject | undefined {
    return this.#entries
      .get(userId)
      ?.get(roomId ?? '')
      ?.get(type)?.content;
  }

  /** Entries written after `since` (all of them when `since` is undefined). */
  changedSince(
    userId: string,
    roomId: string | undefined,
    since: number | undefined,
  ): AccountDataEvent[] {
    const types = this.#entries.get(userId)?.get(roomId ?? '');
    if (types === undefined) return [];
    const events: AccountDataEvent[] = [];
    for (const [type, entry] of types) {
      if (since === undefined || entry.position > since) {
        events.push({ type, content: entry.content });
      }
    }
    return events;
  }

  /** Rooms in which the user's account data changed after `since`. */
  roomsChangedSince(userId: string, since: number | undefined): string[] {
    const rooms: string[] = [];
    for (const [scope, types] of this.#entries.get(userId) ?? []) {
      if (scope === '') continue;
      for (const entry of types.values()) {
        if (since === undefined || entry.position > since) {
          rooms.push(scope);
          break;
        }
      }
    }
    return rooms;
  }
}
