import type { RawEvent } from './sync-response.js';

/** What the bridge knows of a joined room from its state. */
interface RoomState {
  encrypted: boolean;
  /** Joined members. */
  members: Set<string>;
}

/**
 * Follows the state of the rooms the bot is in, from sync: whether each is encrypted (once
 * encrypted, always encrypted, as the spec says) and who its joined members are.
 */
export class RoomTracker {
  readonly #rooms = new Map<string, RoomState>();

  /** Takes state events (from `state` or the timeline) of a joined room. */
  apply(roomId: string, events: readonly RawEvent[]): void {
    let room = this.#rooms.get(roomId);
    if (room === undefined) {
      room = { encrypted: false, members: new Set() };
      this.#rooms.set(roomId, room);
    }
    for (const event of events) {
      if (typeof event.state_key !== 'string') continue;
      const content = (
        typeof event.content === 'object' && event.content !== null ? event.content : {}
      ) as Record<string, unknown>;
      if (event.type === 'm.room.encryption' && typeof content.algorithm === 'string')
        room.encrypted = true;
      if (event.type === 'm.room.member') {
        if (content.membership === 'join') room.members.add(event.state_key);
        else room.members.delete(event.state_key);
      }
    }
  }

  /** Forgets a room the bot left. */
  forget(roomId: string): void {
    this.#rooms.delete(roomId);
  }

  /** True when the room is known to be encrypted. */
  isEncrypted(roomId: string): boolean {
    return this.#rooms.get(roomId)?.encrypted === true;
  }

  /** Joined members of the room. */
  members(roomId: string): string[] {
    return [...(this.#rooms.get(roomId)?.members ?? [])];
  }
}
