import type { SecurityPolicy } from '../policy/security-policy.js';
import { isRoomId, isUserId, normalizeId } from '../config/matrix-id.js';
import type { BridgeCrypto } from './crypto/index.js';
import { CryptoError } from './crypto/index.js';
import type { MatrixClient } from './matrix-client.js';
import { RoomTracker } from './room-tracker.js';
import { SyncLoop } from './sync-loop.js';
import type { RawEvent, SyncResponse } from './sync-response.js';
import type { SyncTokenStore } from './sync-token-store.js';
import type { CallSignaling, RoomCallEvent } from './voip/call-signaling.js';

/** What the Matrix side logs; one stable `event` name per kind. */
export type MatrixLog = (event: string, fields: Record<string, string | number | boolean>) => void;

/** Settings of the Matrix side of the bridge. */
export interface MatrixBridgeOptions {
  client: MatrixClient;
  userId: string;
  tokens: SyncTokenStore;
  /** The current policy, for invites and for rooms a reload blocks. */
  policy: () => SecurityPolicy;
  /** End-to-end encryption; without it encrypted events cannot be read or sent. */
  crypto?: BridgeCrypto;
  log: MatrixLog;
}

/** An encrypted event kept until its keys arrive. */
interface Waiting {
  roomId: string;
  event: RawEvent;
  until: number;
  /** When sync delivered it: the time it waited counts towards an invite's age. */
  receivedAt: number;
}

/** How long an undecryptable event is retried, at most (an invite's own lifetime is shorter). */
const RETRY_UNDECRYPTABLE_MS = 120_000;
const RETRY_UNDECRYPTABLE_MAX = 500;

/**
 * The bridge's life on Matrix: syncs, joins the rooms it is invited to when the policy lets
 * the inviter and the room call it (and declines the rest), tracks room encryption and members,
 * decrypts each batch before acting on it, hands call events to the signaling in order, retries
 * events whose keys come later, and sends its own events encrypted in encrypted rooms.
 */
export class MatrixBridge {
  readonly #options: MatrixBridgeOptions;
  readonly #rooms = new RoomTracker();
  readonly #sync: SyncLoop;
  #signaling: CallSignaling | undefined;
  /** Encrypted events waiting for their keys. */
  #waiting: Waiting[] = [];

  constructor(options: MatrixBridgeOptions) {
    this.#options = options;
    this.#sync = new SyncLoop({
      client: options.client,
      userId: options.userId,
      tokens: options.tokens,
      onBatch: (sync) => this.#onBatch(sync),
      onError: (error, retryInMs) =>
        options.log('matrix_sync_failed', {
          error: String(error),
          retry_in_ms: Math.round(retryInMs),
        }),
    });
  }

  /** Where call events go; set before `start`. */
  set signaling(signaling: CallSignaling) {
    this.#signaling = signaling;
  }

  /** Starts syncing. */
  start(): void {
    this.#sync.start();
  }

  /** True while syncing works: a batch handled and the latest request answered. */
  get syncing(): boolean {
    return this.#sync.healthy;
  }

  /** Stops syncing. */
  stop(): Promise<void> {
    return this.#sync.stop();
  }

  /** Joined members of a room the bridge is in, or undefined when it does not know the room. */
  roomMembers(roomId: string): number | undefined {
    const members = this.#rooms.members(roomId);
    return members.length === 0 ? undefined : members.length;
  }

  /** Sends a room event, encrypted when the room is. */
  async send(roomId: string, type: string, content: Record<string, unknown>): Promise<void> {
    const { client, crypto } = this.#options;
    if (!this.#rooms.isEncrypted(roomId)) {
      await client.sendEvent(roomId, type, content);
      return;
    }
    if (crypto === undefined)
      throw new Error(`room ${roomId} is encrypted and the bridge has no crypto`);
    await crypto.ensureRoomKeys(roomId, this.#rooms.members(roomId));
    const encrypted = await crypto.encrypt(roomId, type, content);
    await client.sendEvent(roomId, 'm.room.encrypted', encrypted);
  }

  async #onBatch(sync: SyncResponse): Promise<void> {
    const { crypto } = this.#options;
    if (crypto !== undefined) {
      await crypto.receiveSyncChanges(
        sync.to_device?.events ?? [],
        sync.device_lists ?? {},
        sync.device_one_time_keys_count ?? {},
        sync.device_unused_fallback_key_types,
      );
      await crypto.sendOutgoingRequests();
    }

    for (const [roomId, invite] of Object.entries(sync.rooms?.invite ?? {})) {
      await this.#invited(roomId, invite.invite_state?.events ?? []);
    }
    for (const roomId of Object.keys(sync.rooms?.leave ?? {})) this.#rooms.forget(roomId);

    // Decrypt the whole batch before acting on any of it: a hangup can sit in the same batch
    // as its invite, and must be seen after it.
    const ready: Array<{ roomId: string; event: RawEvent; encrypted: boolean }> = [];
    for (const waiting of this.#takeWaiting())
      await this.#open(waiting.roomId, waiting.event, ready, waiting.until, waiting.receivedAt);
    for (const [roomId, room] of Object.entries(sync.rooms?.join ?? {})) {
      this.#rooms.apply(roomId, room.state?.events ?? []);
      this.#rooms.apply(roomId, room.timeline?.events ?? []);
      if (this.#blockedByPolicy(roomId)) {
        await this.#leave(roomId, 'room blocked by the current policy');
        continue;
      }
      for (const event of room.timeline?.events ?? []) await this.#open(roomId, event, ready);
    }
    for (const { roomId, event, encrypted } of ready)
      await this.#dispatch(roomId, event, encrypted);
  }

  /** Decrypts one event if needed and queues it for dispatch; keeps it if keys are missing. */
  async #open(
    roomId: string,
    event: RawEvent,
    ready: Array<{ roomId: string; event: RawEvent; encrypted: boolean }>,
    until = Date.now() + RETRY_UNDECRYPTABLE_MS,
    receivedAt = Date.now(),
  ): Promise<void> {
    if (event.type !== 'm.room.encrypted') {
      ready.push({ roomId, event, encrypted: false });
      return;
    }
    const { crypto, log } = this.#options;
    if (crypto === undefined) return;
    try {
      const clear = await crypto.decrypt(event, roomId);
      ready.push({
        roomId,
        event: olderBy(clear.event, Date.now() - receivedAt),
        encrypted: clear.encrypted,
      });
    } catch (error) {
      if (error instanceof CryptoError && error.code === 'undecryptable' && Date.now() < until) {
        if (this.#waiting.length < RETRY_UNDECRYPTABLE_MAX)
          this.#waiting.push({ roomId, event, until, receivedAt });
        return;
      }
      log('matrix_event_undecryptable', {
        room_id: roomId,
        event_id: String(event.event_id),
        error: String(error),
      });
    }
  }

  #takeWaiting(): Waiting[] {
    const now = Date.now();
    const waiting = this.#waiting.filter((w) => w.until > now);
    this.#waiting = [];
    return waiting;
  }

  async #dispatch(roomId: string, event: RawEvent, encrypted: boolean): Promise<void> {
    if (this.#signaling === undefined || typeof event.type !== 'string') return;
    if (typeof event.sender !== 'string' || typeof event.event_id !== 'string') return;
    const age = typeof event.unsigned?.age === 'number' ? event.unsigned.age : 0;
    const callEvent: RoomCallEvent = {
      roomId,
      type: event.type,
      sender: event.sender,
      eventId: event.event_id,
      content: event.content,
      age,
      encrypted,
    };
    try {
      await this.#signaling.handle(callEvent);
    } catch (error) {
      this.#options.log('matrix_call_event_failed', {
        room_id: roomId,
        event_id: event.event_id,
        error: String(error),
      });
    }
  }

  /** Joins when the inviter and the room may call the bot; declines otherwise. */
  async #invited(roomId: string, state: readonly RawEvent[]): Promise<void> {
    const { userId, log } = this.#options;
    const own = state.find((e) => e.type === 'm.room.member' && e.state_key === userId);
    const inviter = typeof own?.sender === 'string' ? own.sender : '';
    const refusal = this.#refusalFor(inviter, roomId);
    if (refusal !== undefined) {
      log('matrix_invite_declined', { room_id: roomId, user_id: inviter, reason: refusal });
      await this.#leave(roomId, refusal);
      return;
    }
    try {
      await this.#options.client.joinRoom(roomId);
      log('matrix_invite_accepted', { room_id: roomId, user_id: inviter });
    } catch (error) {
      log('matrix_join_failed', { room_id: roomId, error: String(error) });
    }
  }

  #refusalFor(inviter: string, roomId: string): string | undefined {
    const policy = this.#options.policy();
    if (!isUserId(inviter)) return 'invalid_user_id';
    if (!isRoomId(roomId)) return 'invalid_room_id';
    return policy.accessRefusal(normalizeId(inviter), normalizeId(roomId));
  }

  #blockedByPolicy(roomId: string): boolean {
    return this.#options.policy().roomRefusal(normalizeId(roomId)) !== undefined;
  }

  async #leave(roomId: string, reason: string): Promise<void> {
    this.#rooms.forget(roomId);
    try {
      await this.#options.client.leaveRoom(roomId, reason);
      this.#options.log('matrix_room_left', { room_id: roomId, reason });
    } catch (error) {
      this.#options.log('matrix_leave_failed', { room_id: roomId, error: String(error) });
    }
  }
}

/** The event as if delivered `waitedMs` later: an invite that waited for its keys ages too. */
function olderBy(event: RawEvent, waitedMs: number): RawEvent {
  if (waitedMs <= 0) return event;
  const age = typeof event.unsigned?.age === 'number' ? event.unsigned.age : 0;
  return { ...event, unsigned: { ...event.unsigned, age: age + waitedMs } };
}
