import { MatrixClient } from '../../src/matrix/matrix-client.js';
import { MatrixError } from '../../src/matrix/matrix-error.js';
import { MatrixHttp } from '../../src/matrix/matrix-http.js';
import type { RawEvent } from '../../src/matrix/sync-response.js';
import type { DevServer } from '../../src/devserver/index.js';

/** A registered account on the development server, with its own client. */
export interface Account {
  userId: string;
  deviceId: string;
  accessToken: string;
  client: MatrixClient;
}

/** Registers `username` (the dummy auth flow real clients use) and returns a logged-in client. */
export async function register(server: DevServer, username: string): Promise<Account> {
  const http = new MatrixHttp({ baseUrl: server.url, ca: server.caPem });
  const body = { username, password: `${username}-password` };
  let session: string | undefined;
  try {
    await http.request({
      method: 'POST',
      path: '/_matrix/client/v3/register',
      body,
      anonymous: true,
    });
  } catch (error) {
    if (!(error instanceof MatrixError)) throw error;
    session = 'dummy';
  }
  const answer = await http.request<Record<string, string>>({
    method: 'POST',
    path: '/_matrix/client/v3/register',
    body: { ...body, auth: { type: 'm.login.dummy', session } },
    anonymous: true,
  });
  http.accessToken = answer.access_token as string;
  return {
    userId: answer.user_id as string,
    deviceId: answer.device_id as string,
    accessToken: answer.access_token as string,
    client: new MatrixClient(http),
  };
}

/** Collects the room timeline events one account sees, through its own sync. */
export class EventCollector {
  readonly events: Array<RawEvent & { room_id: string }> = [];
  #since: string | undefined;
  #running = true;
  readonly #done: Promise<void>;

  constructor(readonly account: Account) {
    this.#done = this.#run();
  }

  async #run(): Promise<void> {
    while (this.#running) {
      try {
        const sync = await this.account.client.sync({
          since: this.#since,
          timeoutMs: this.#since ? 200 : 0,
        });
        this.#since = sync.next_batch;
        for (const [roomId, room] of Object.entries(sync.rooms?.join ?? {})) {
          for (const event of room.timeline?.events ?? [])
            this.events.push({ ...event, room_id: roomId });
        }
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /** Events of `type` from someone else, in order. */
  of(type: string): Array<RawEvent & { room_id: string }> {
    return this.events.filter((e) => e.type === type && e.sender !== this.account.userId);
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#done;
  }
}
