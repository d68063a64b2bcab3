import { randomBytes } from 'node:crypto';

import { MatrixClient } from '../matrix/matrix-client.js';
import { MatrixHttp } from '../matrix/matrix-http.js';

const V3 = '/_matrix/client/v3';

/** An account made on the development homeserver. */
export interface DevAccount {
  userId: string;
  password: string;
}

/** A logged-in device of a development account. */
export interface DevLogin {
  userId: string;
  deviceId: string;
  accessToken: string;
}

/**
 * Makes and uses accounts on a development homeserver through its client-server API, as any
 * client would: registration (the dummy flow, without a device), password logins, an
 * encrypted direct room.
 */
export class DevAccounts {
  readonly #baseUrl: string;
  readonly #ca: string;

  constructor(baseUrl: string, caPem: string) {
    this.#baseUrl = baseUrl;
    this.#ca = caPem;
  }

  #http(): MatrixHttp {
    return new MatrixHttp({ baseUrl: this.#baseUrl, ca: this.#ca });
  }

  /** Registers `localpart` with a random password; no device is logged in. */
  async register(localpart: string): Promise<DevAccount> {
    const password = randomBytes(18).toString('base64url');
    const http = this.#http();
    try {
      const answer = await http.request<{ user_id: string }>({
        method: 'POST',
        path: `${V3}/register`,
        anonymous: true,
        body: {
          username: localpart,
          password,
          inhibit_login: true,
          auth: { type: 'm.login.dummy' },
        },
      });
      return { userId: answer.user_id, password };
    } finally {
      http.close();
    }
  }

  /** Logs a new device of `account` in. */
  async login(account: DevAccount, deviceName: string): Promise<DevLogin> {
    const http = this.#http();
    try {
      const answer = await http.request<Record<string, unknown>>({
        method: 'POST',
        path: `${V3}/login`,
        anonymous: true,
        body: {
          type: 'm.login.password',
          identifier: { type: 'm.id.user', user: account.userId },
          password: account.password,
          initial_device_display_name: deviceName,
        },
      });
      const { user_id: userId, device_id: deviceId, access_token: accessToken } = answer;
      if (
        typeof userId !== 'string' ||
        typeof deviceId !== 'string' ||
        typeof accessToken !== 'string'
      ) {
        throw new Error('the login answer lacks user_id, device_id or access_token');
      }
      return { userId, deviceId, accessToken };
    } finally {
      http.close();
    }
  }

  /**
   * Makes an encrypted direct room of `host` (who creates it) and `guest` (who joins it), each
   * from a short-lived device that is logged out again. Returns the room id.
   */
  async encryptedDirectRoom(host: DevAccount, guest: DevAccount): Promise<string> {
    const { room_id: roomId } = await this.#as(host, (client) =>
      client.raw<{ room_id: string }>('POST', `${V3}/createRoom`, {
        preset: 'trusted_private_chat',
        is_direct: true,
        invite: [guest.userId],
        initial_state: [
          {
            type: 'm.room.encryption',
            state_key: '',
            content: { algorithm: 'm.megolm.v1.aes-sha2' },
          },
        ],
      }),
    );
    await this.#as(guest, (client) => client.joinRoom(roomId));
    return roomId;
  }

  /** Runs `work` with a client of a fresh device of `account`, then logs that device out. */
  async #as<T>(account: DevAccount, work: (client: MatrixClient) => Promise<T>): Promise<T> {
    const login = await this.login(account, 'voicebridge dev set-up');
    const http = new MatrixHttp({
      baseUrl: this.#baseUrl,
      ca: this.#ca,
      accessToken: login.accessToken,
    });
    try {
      const client = new MatrixClient(http);
      const result = await work(client);
      await client.raw('POST', `${V3}/logout`, {});
      return result;
    } finally {
      http.close();
    }
  }
}
