import type { RoomEvent } from './room-event.js';

/** The room version every room of this server has. */
export const ROOM_VERSION = '10';

/** A user's membership of a room, as `m.room.member` events state it. */
export type Membership = 'join' | 'invite' | 'leave' | 'ban' | 'knock';

/** Power-level actions that have their own key in `m.room.power_levels`. */
export type PowerAction = 'invite' | 'kick' | 'ban' | 'redact';

/** Key of the state map: type and state key, joined by a character neither may hold. */
function stateMapKey(type: string, stateKey: string): string {
  return `${type}\u0000${stateKey}`;
}

/** A number from power-level content, or `fallback` when it is absent or not an integer. */
function level(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) ? value : fallback;
}

/** An object from power-level content, or an empty one. */
function table(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** One room: its timeline of events and its current state. */
export class Room {
  readonly roomId: string;

  /** Every event, in stream order. */
  readonly #timeline: RoomEvent[] = [];
  /** Current state events by type and state key. */
  readonly #state = new Map<string, RoomEvent>();
  /** User ids by current membership, kept beside the state so member lists cost no scan. */
  readonly #byMembership = new Map<string, Set<string>>();

  constructor(roomId: string) {
    this.roomId = roomId;
  }

  /** The stream position of the newest event, 0 for a room without events. */
  get lastPosition(): number {
    return this.#timeline.at(-1)?.position ?? 0;
  }

  /** Events in the room. */
  get eventCount(): number {
    return this.#timeline.length;
  }

  /** Adds an event that the caller has checked; state events update the state. */
  append(event: RoomEvent): void {
    this.#timeline.push(event);
    if (event.stateKey === undefined) return;
    if (event.type === 'm.room.member') {
      const before = this.stateEvent('m.room.member', event.stateKey)?.content.membership;
      if (typeof before === 'string') this.#byMembership.get(before)?.delete(event.stateKey);
      const after = event.content.membership;
      if (typeof after === 'string') {
        let users = this.#byMembership.get(after);
        if (users === undefined) {
          users = new Set();
          this.#byMembership.set(after, users);
        }
        users.add(event.stateKey);
      }
    }
    this.#state.set(stateMapKey(event.type, event.stateKey), event);
  }

  /** The current state event of a type and state key. */
  stateEvent(type: string, stateKey: string): RoomEvent | undefined {
    return this.#state.get(stateMapKey(type, stateKey));
  }

  /** Every current state event. */
  stateEvents(): RoomEvent[] {
    return [...this.#state.values()];
  }

  /** A user's current membership, or undefined when the room never heard of them. */
  membership(userId: string): Membership | undefined {
    const membership = this.stateEvent('m.room.member', userId)?.content.membership;
    return typeof membership === 'string' ? (membership as Membership) : undefined;
  }

  /** Users whose current membership is `membership`, in the order they came to it. */
  members(membership: Membership): string[] {
    return [...(this.#byMembership.get(membership) ?? [])];
  }

  /** Up to `max` joined, then invited, users other than `except`: the room's "heroes". */
  heroes(except: string, max: number): string[] {
    const heroes: string[] = [];
    for (const membership of ['join', 'invite']) {
      for (const member of this.#byMembership.get(membership) ?? []) {
        if (heroes.length === max) return heroes;
        if (member !== except) heroes.push(member);
      }
    }
    return heroes;
  }

  /** How many users have the membership `membership`. */
  memberCount(membership: Membership): number {
    return this.#byMembership.get(membership)?.size ?? 0;
  }

  /** Current `m.room.member` events. */
  memberEvents(): RoomEvent[] {
    return this.stateEvents().filter((event) => event.type === 'm.room.member');
  }

  /** Whether `m.room.encryption` is in the room's state. */
  get encrypted(): boolean {
    return this.stateEvent('m.room.encryption', '') !== undefined;
  }

  /** The join rule, `invite` when unset (the spec's default). */
  get joinRule(): string {
    const rule = this.stateEvent('m.room.join_rules', '')?.content.join_rule;
    return typeof rule === 'string' ? rule : 'invite';
  }

  /** Events at positions after `after` and at most `upTo`, oldest first. */
  eventsBetween(after: number, upTo: number): RoomEvent[] {
    return this.#timeline.slice(this.#indexAfter(after), this.#indexAfter(upTo));
  }

  /** Up to `limit` events at positions at most `upTo`, newest first. */
  eventsBefore(upTo: number, limit: number): RoomEvent[] {
    const end = this.#indexAfter(upTo);
    return this.#timeline.slice(Math.max(0, end - limit), end).reverse();
  }

  /** Events at positions after `after` and at most `upTo`, newest first, read lazily. */
  *newestFirst(after: number, upTo: number): Generator<RoomEvent> {
    for (let index = this.#indexAfter(upTo) - 1; index >= 0; index -= 1) {
      const event = this.#timeline[index]!;
      if (event.position <= after) return;
      yield event;
    }
  }

  /** The state as it was just after position `position`. */
  stateAt(position: number): RoomEvent[] {
    const state: RoomEvent[] = [];
    for (const current of this.#state.values()) {
      let event: RoomEvent | undefined = current;
      while (event !== undefined && event.position > position) event = event.replaces;
      if (event !== undefined) state.push(event);
    }
    return state;
  }

  /** The position of the room's first event, 0 for a room without events. */
  get firstPosition(): number {
    return this.#timeline[0]?.position ?? 0;
  }

  /** The power level of a user. */
  powerLevel(userId: string): number {
    const content = this.stateEvent('m.room.power_levels', '')?.content;
    if (content === undefined) {
      const creator = this.stateEvent('m.room.create', '')?.sender;
      return creator === userId ? 100 : 0;
    }
    return level(table(content.users)[userId], level(content.users_default, 0));
  }

  /** The power level needed to send an event of `type`. */
  levelToSend(type: string, isState: boolean): number {
    const content = this.stateEvent('m.room.power_levels', '')?.content ?? {};
    const fallback = isState ? level(content.state_default, 50) : level(content.events_default, 0);
    return level(table(content.events)[type], fallback);
  }

  /** The power level needed for an action. */
  levelFor(action: PowerAction): number {
    const content = this.stateEvent('m.room.power_levels', '')?.content ?? {};
    return level(content[action], action === 'invite' ? 0 : 50);
  }

  /** Index of the first event whose position is greater than `position`. */
  #indexAfter(position: number): number {
    let low = 0;
    let high = this.#timeline.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.#timeline[middle]!.position <= position) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
