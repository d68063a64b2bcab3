import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

import { BridgeCrypto, CryptoError } from '../matrix/crypto/index.js';
import { MatrixClient } from '../matrix/matrix-client.js';
import { MatrixError } from '../matrix/matrix-error.js';
import { MatrixHttp } from '../matrix/matrix-http.js';
import type { RawEvent, SyncResponse } from '../matrix/sync-response.js';
import { registerAccount } from './register-account.js';

/** A call event that reached a caller, decrypted. */
export interface ReceivedCallEvent {
  roomId: string;
  type: string;
  sender: string;
  content: Record<string, unknown>;
  /** `performance.now()` when the sync answer that carried it arrived. */
  syncedAt: number;
  /** `performance.now()` once it was decrypted and handed over. */
  at: number;
}

/** How long a long-poll sync of a caller waits for news, in ms. */
const SYNC_TIMEOUT_MS = 30_000;
/** An undecryptable event is retried on later syncs (its keys may come later) this long. */
const RETRY_UNDECRYPTABLE_MS = 30_000;

/** Where a caller account lives. */
export interface CallerAccountOptions {
  /** `https://...` of the homeserver. */
  homeserverUrl: string;
  /** Extra CA certificate (PEM) to trust for it, such as the development homeserver's own. */
  caPem?: string;
  /** The user name to register (localpart). */
  username: string;
}

/**
 * A synthetic caller's Matrix account: registered on the homeserver, with its own device and
 * end-to-end encryption (BridgeCrypto over a store in a temporary folder, removed at `close`),
 * a long-poll sync that feeds the crypto, decrypts each batch before handing out its call
 * events, and retries events whose keys come later. Call events go to the handler registered
 * for their call id.
 */
export class CallerAccount {
  readonly userId: string;
  readonly deviceId: string;
  readonly client: MatrixClient;
  readonly crypto: BridgeCrypto;
  /** Handlers of call events by call id. */
  readonly #handlers = new Map<string, (event: ReceivedCallEvent) => void>();
  /** Waiters for a member to join a room. */
  readonly #joinWaiters = new Set<{ roomId: string; userId: string; resolve: () => void }>();
  /** Joined members per room, as sync reported them. */
  readonly #members = new Map<string, Set<string>>();
  /** Encrypted events waiting for their keys. */
  #waiting: Array<{ roomId: string; event: RawEvent; until: number; syncedAt: number }> = [];
  /** The temporary folder of the crypto store. */
  readonly #dir: string;
  readonly #stop = new AbortController();
  #since: string | undefined;
  #loop: Promise<void> | undefined;
  /** Sync failures in a row. */
  #failures = 0;
  /** Events that stayed undecryptable past their retry time. */
  undecryptable = 0;

  private constructor(
    userId: string,
    deviceId: string,
    client: MatrixClient,
    crypto: BridgeCrypto,
    dir: string,
  ) {
    this.userId = userId;
    this.deviceId = deviceId;
    this.client = client;
    this.crypto = crypto;
    this.#dir = dir;
  }

  /**
   * Registers the account, opens its crypto, uploads its keys through a first sync, and starts
   * syncing.
   */
  static async register(options: CallerAccountOptions): Promise<CallerAccount> {
    const http = new MatrixHttp({ baseUrl: options.homeserverUrl, ca: options.caPem });
    const password = randomBytes(12).toString('base64url');
    const session = await registerAccount(http, options.username, password);
    const client = new MatrixClient(http);
    const dir = mkdtempSync(join(tmpdir(), 'vb-caller-'));
    let crypto: BridgeCrypto;
    try {
      crypto = await BridgeCrypto.open({
        userId: session.userId,
        deviceId: session.deviceId,
        storeDir: join(dir, 'crypto'),
        key: randomBytes(32),
        send: async (request) =>
          JSON.stringify(
            await client.http.request({
              method: request.method,
              path: request.path,
              body: JSON.parse(request.body) as unknown,
            }),
          ),
      });
    } catch (error) {
      http.close();
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    const account = new CallerAccount(session.userId, session.deviceId, client, crypto, dir);
    await account.#syncOnce(0);
    account.#loop = account.#run();
    return account;
  }

  /**
   * Opens an encrypted direct room with `peer`, waits until `peer` has joined (up to
   * `timeoutMs`), and shares this device's room key with it. Returns the room id.
   */
  async openEncryptedDm(peer: string, timeoutMs = 20_000): Promise<string> {
    const { room_id: roomId } = await this.client.raw<{ room_id: string }>(
      'POST',
      '/_matrix/client/v3/createRoom',
      {
        preset: 'trusted_private_chat',
        invite: [peer],
        is_direct: true,
        initial_state: [
          {
            type: 'm.room.encryption',
            state_key: '',
            content: { algorithm: 'm.megolm.v1.aes-sha2' },
          },
        ],
      },
    );
    if (typeof roomId !== 'string') {
      throw new MatrixError('bad_response', 'createRoom answer lacks room_id');
    }
    await this.#joined(roomId, peer, timeoutMs);
    await this.crypto.ensureRoomKeys(roomId, [this.userId, peer]);
    return roomId;
  }

  /**
   * Sends a call event into an encrypted room; returns how long encrypting and sending took.
   * `onEncrypted` is told the moment the event is encrypted and about to be sent.
   */
  async sendEncrypted(
    roomId: string,
    type: string,
    content: Record<string, unknown>,
    onEncrypted?: () => void,
  ): Promise<{ encryptMs: number; sendMs: number }> {
    const started = performance.now();
    const encrypted = await this.crypto.encrypt(roomId, type, content);
    const encryptedAt = performance.now();
    onEncrypted?.();
    await this.client.sendEvent(roomId, 'm.room.encrypted', encrypted);
    return { encryptMs: encryptedAt - started, sendMs: performance.now() - encryptedAt };
  }

  /** Routes the call events of `callId` to `handler` until the returned function is called. */
  onCall(callId: string, handler: (event: ReceivedCallEvent) => void): () => void {
    this.#handlers.set(callId, handler);
    return () => {
      if (this.#handlers.get(callId) === handler) this.#handlers.delete(callId);
    };
  }

  /** Stops syncing, closes the crypto and removes its store. */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    for (const waiter of this.#joinWaiters) waiter.resolve();
    try {
      await this.crypto.close();
    } finally {
      this.client.http.close();
      rmSync(this.#dir, { recursive: true, force: true });
    }
  }

  async #joined(roomId: string, userId: string, timeoutMs: number): Promise<void> {
    if (this.#members.get(roomId)?.has(userId) === true) return;
    const deadline = performance.now() + timeoutMs;
    let waiter: { roomId: string; userId: string; resolve: () => void } | undefined;
    const seen = new Promise<void>((resolve) => {
      waiter = { roomId, userId, resolve };
      this.#joinWaiters.add(waiter);
    });
    try {
      // Sync says so first; a poll of the member list covers a batch missed while stopping.
      while (performance.now() < deadline && !this.#stop.signal.aborted) {
        const timeout = sleep(500, 'timeout');
        if ((await Promise.race([seen, timeout])) !== 'timeout') return;
        if ((await this.client.joinedMembers(roomId)).includes(userId)) return;
      }
    } finally {
      if (waiter !== undefined) this.#joinWaiters.delete(waiter);
    }
    throw new Error(`${userId} did not join ${roomId} within ${timeoutMs} ms`);
  }

  async #run(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      try {
        await this.#syncOnce(SYNC_TIMEOUT_MS);
        this.#failures = 0;
      } catch {
        if (this.#stop.signal.aborted) return;
        this.#failures += 1;
        const wait = Math.min(5_000, 100 * 2 ** Math.min(this.#failures, 6));
        await sleep(wait, undefined, { signal: this.#stop.signal }).catch(() => undefined);
      }
    }
  }

  async #syncOnce(timeoutMs: number): Promise<void> {
    const sync: SyncResponse = await this.client.sync({
      since: this.#since,
      timeoutMs: this.#since === undefined ? 0 : timeoutMs,
      signal: this.#stop.signal,
    });
    const syncedAt = performance.now();
    await this.crypto.receiveSyncChanges(
      sync.to_device?.events ?? [],
      sync.device_lists ?? {},
      sync.device_one_time_keys_count ?? {},
      sync.device_unused_fallback_key_types,
    );
    await this.crypto.sendOutgoingRequests();

    // The whole batch is decrypted before any of it is acted on, keys first, in order.
    const ready: ReceivedCallEvent[] = [];
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const held of waiting) {
      await this.#open(held.roomId, held.event, held.syncedAt, ready, held.until);
    }
    for (const [roomId, room] of Object.entries(sync.rooms?.join ?? {})) {
      for (const event of [...(room.state?.events ?? []), ...(room.timeline?.events ?? [])]) {
        this.#noteMembership(roomId, event);
      }
      for (const event of room.timeline?.events ?? []) {
        if (event.sender === this.userId) continue;
        await this.#open(
          roomId,
          event,
          syncedAt,
          ready,
          performance.now() + RETRY_UNDECRYPTABLE_MS,
        );
      }
    }
    this.#since = sync.next_batch;
    for (const event of ready) {
      const callId = event.content.call_id;
      if (typeof callId !== 'string') continue;
      this.#handlers.get(callId)?.(event);
    }
  }

  async #open(
    roomId: string,
    event: RawEvent,
    syncedAt: number,
    ready: ReceivedCallEvent[],
    until: number,
  ): Promise<void> {
    if (event.type !== 'm.room.encrypted') {
      if (typeof event.type === 'string' && event.type.startsWith('m.call.')) {
        ready.push(callEvent(roomId, event, syncedAt));
      }
      return;
    }
    try {
      const clear = await this.crypto.decrypt(event, roomId);
      if (clear.event.type.startsWith('m.call.')) {
        ready.push(callEvent(roomId, clear.event, syncedAt));
      }
    } catch (error) {
      if (error instanceof CryptoError && error.code === 'undecryptable') {
        if (performance.now() < until) this.#waiting.push({ roomId, event, until, syncedAt });
        else this.undecryptable += 1;
        return;
      }
      // A malformed event is one event lost; it must not stop the batch behind it.
      this.undecryptable += 1;
    }
  }

  #noteMembership(roomId: string, event: RawEvent): void {
    if (event.type !== 'm.room.member' || typeof event.state_key !== 'string') return;
    const content = (event.content ?? {}) as { membership?: unknown };
    let members = this.#members.get(roomId);
    if (members === undefined) {
      members = new Set();
      this.#members.set(roomId, members);
    }
    if (content.membership === 'join') members.add(event.state_key);
    else members.delete(event.state_key);
    for (const waiter of this.#joinWaiters) {
      if (waiter.roomId === roomId && members.has(waiter.userId)) waiter.resolve();
    }
  }
}

function callEvent(roomId: string, event: RawEvent, syncedAt: number): ReceivedCallEvent {
  const content = event.content;
  return {
    roomId,
    type: String(event.type),
    sender: String(event.sender),
    content:
      typeof content === 'object' && content !== null && !Array.isArray(content)
        ? (content as Record<string, unknown>)
        : {},
    syncedAt,
    at: performance.now(),
  };
}
