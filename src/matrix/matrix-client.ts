import { randomBytes } from 'node:crypto';

import { MatrixError } from './matrix-error.js';
import type { MatrixHttp } from './matrix-http.js';
import { SEND_RETRY, withRetries, type RetryPolicy } from './retry.js';
import type { SyncResponse } from './sync-response.js';

/** Events above this size are refused by homeservers; refuse them before sending. */
export const MAX_EVENT_BYTES = 65_536;

const V3 = '/_matrix/client/v3';
const enc = encodeURIComponent;

/** Who the bot is. */
export interface Whoami {
  userId: string;
  deviceId: string;
}

/**
 * The bridge's own Matrix client: the few client-server API calls a call bridge needs, with
 * transaction ids that make every send safe to retry (the homeserver answers a repeated
 * transaction with the event it already sent), retries that honour 429s, and the event size
 * limit checked before anything leaves.
 */
export class MatrixClient {
  readonly http: MatrixHttp;
  readonly #retry: RetryPolicy;
  /** Prefix of this process's transaction ids; a counter makes each one unique. */
  readonly #txnPrefix = randomBytes(6).toString('base64url');
  #txnCounter = 0;

  constructor(http: MatrixHttp, retry: RetryPolicy = SEND_RETRY) {
    this.http = http;
    this.#retry = retry;
  }

  /** Logs in with a password once; returns the access token and device id to keep. */
  static async login(
    http: MatrixHttp,
    user: string,
    password: string,
    deviceId?: string,
  ): Promise<{ accessToken: string; userId: string; deviceId: string }> {
    const answer = await http.request<Record<string, unknown>>({
      method: 'POST',
      path: `${V3}/login`,
      anonymous: true,
      body: {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user },
        password,
        device_id: deviceId,
        initial_device_display_name: 'voicebridge',
      },
    });
    const { access_token: accessToken, user_id: userId, device_id: device } = answer;
    if (
      typeof accessToken !== 'string' ||
      typeof userId !== 'string' ||
      typeof device !== 'string'
    ) {
      throw new MatrixError(
        'bad_response',
        'login answer lacks access_token, user_id or device_id',
      );
    }
    http.accessToken = accessToken;
    return { accessToken, userId, deviceId: device };
  }

  /** Checks the access token and says whose it is. */
  async whoami(): Promise<Whoami> {
    const answer = await this.http.request<Record<string, unknown>>({
      method: 'GET',
      path: `${V3}/account/whoami`,
    });
    if (typeof answer.user_id !== 'string' || typeof answer.device_id !== 'string') {
      throw new MatrixError('bad_response', 'whoami answer lacks user_id or device_id');
    }
    return { userId: answer.user_id, deviceId: answer.device_id };
  }

  /** Uploads a sync filter and returns its id. */
  async createFilter(userId: string, filter: unknown): Promise<string> {
    const answer = await withRetries(
      () =>
        this.http.request<Record<string, unknown>>({
          method: 'POST',
          path: `${V3}/user/${enc(userId)}/filter`,
          body: filter,
        }),
      this.#retry,
    );
    if (typeof answer.filter_id !== 'string') {
      throw new MatrixError('bad_response', 'filter answer lacks filter_id');
    }
    return answer.filter_id;
  }

  /** One sync request; long-polls for up to `timeoutMs`. */
  sync(options: {
    since?: string;
    filter?: string;
    timeoutMs: number;
    signal?: AbortSignal;
  }): Promise<SyncResponse> {
    return this.http.request<SyncResponse>({
      method: 'GET',
      path: `${V3}/sync`,
      query: { since: options.since, filter: options.filter, timeout: options.timeoutMs },
      timeoutMs: options.timeoutMs + 30_000,
      signal: options.signal,
    });
  }

  /** A transaction id unique to this process. */
  newTxnId(): string {
    this.#txnCounter += 1;
    return `vb${this.#txnPrefix}.${this.#txnCounter}`;
  }

  /**
   * Sends a room event, retrying until it is in (the same transaction id each time, so it is
   * never sent twice). Refuses events over the size limit before sending. Returns the event id.
   */
  async sendEvent(
    roomId: string,
    type: string,
    content: object,
    txnId = this.newTxnId(),
  ): Promise<string> {
    const size = Buffer.byteLength(JSON.stringify({ type, content, room_id: roomId }));
    if (size > MAX_EVENT_BYTES - 1_024) {
      throw new MatrixError('event_too_large', `${type} of ${size} bytes is over the event limit`);
    }
    const answer = await withRetries(
      () =>
        this.http.request<Record<string, unknown>>({
          method: 'PUT',
          path: `${V3}/rooms/${enc(roomId)}/send/${enc(type)}/${enc(txnId)}`,
          body: content,
        }),
      this.#retry,
    );
    if (typeof answer.event_id !== 'string') {
      throw new MatrixError('bad_response', 'send answer lacks event_id');
    }
    return answer.event_id;
  }

  /** Sends to-device messages (`messages[user][device] = content`), safely retried. */
  async sendToDevice(type: string, messages: object, txnId = this.newTxnId()): Promise<void> {
    await withRetries(
      () =>
        this.http.request({
          method: 'PUT',
          path: `${V3}/sendToDevice/${enc(type)}/${enc(txnId)}`,
          body: { messages },
        }),
      this.#retry,
    );
  }

  /** Any other client-server call, for the crypto layer's key requests. */
  raw<T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T> {
    return withRetries(() => this.http.request<T>({ method, path, body }), this.#retry);
  }

  /** Joins a room the bot was invited to. */
  async joinRoom(roomId: string): Promise<void> {
    await withRetries(
      () =>
        this.http.request({ method: 'POST', path: `${V3}/rooms/${enc(roomId)}/join`, body: {} }),
      this.#retry,
    );
  }

  /** Leaves (or declines an invite to) a room, with a reason the members can see. */
  async leaveRoom(roomId: string, reason: string): Promise<void> {
    await withRetries(
      () =>
        this.http.request({
          method: 'POST',
          path: `${V3}/rooms/${enc(roomId)}/leave`,
          body: { reason },
        }),
      this.#retry,
    );
  }

  /** User ids of the room's joined members. */
  async joinedMembers(roomId: string): Promise<string[]> {
    const answer = await withRetries(
      () =>
        this.http.request<{ joined?: Record<string, unknown> }>({
          method: 'GET',
          path: `${V3}/rooms/${enc(roomId)}/joined_members`,
        }),
      this.#retry,
    );
    return Object.keys(answer.joined ?? {});
  }
}
