import { afterEach } from 'vitest';

import {
  createTrustingFetch,
  startDevServer,
  type DevServer,
  type DevServerOptions,
  type FetchFunction,
} from '../../src/devserver/index.js';

import type { Body, SyncResponse } from './responses.js';

/** A response: status and parsed JSON body, typed as the test expects it. */
export interface Answer<T = Body> {
  readonly status: number;
  readonly body: T;
}

/** Servers started by the current test; closed after it. */
const started: DevServer[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((server) => server.close()));
});

/** A started server with a fetch that trusts it, closed after the test. */
export interface Harness {
  readonly server: DevServer;
  readonly fetch: FetchFunction;
  /** Sends a request; `body` may be an object (sent as JSON) or raw text. */
  readonly request: <T = Body>(
    method: string,
    path: string,
    options?: RequestOptions,
  ) => Promise<Answer<T>>;
  /** Registers a user through the dummy interactive-auth flow and returns a client. */
  readonly register: (username: string, password?: string) => Promise<TestUser>;
}

/** Options of one request. */
export interface RequestOptions {
  readonly token?: string;
  readonly body?: unknown;
  readonly query?: Record<string, string | number | boolean>;
}

/** Starts a server for the current test. */
export async function startHarness(options: DevServerOptions = {}): Promise<Harness> {
  const server = await startDevServer(options);
  started.push(server);
  const fetch = createTrustingFetch(server.caPem);

  const request = async <T = Body>(
    method: string,
    path: string,
    opts: RequestOptions = {},
  ): Promise<Answer<T>> => {
    const url = new URL(path.startsWith('/') ? path : `/_matrix/client/v3/${path}`, server.url);
    for (const [name, value] of Object.entries(opts.query ?? {})) {
      url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = {};
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    }
    const response = await fetch(url, { method, headers, body });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as T };
  };

  const harness: Harness = {
    server,
    fetch,
    request,
    register: async (username, password = 'correct horse') => {
      const challenge = await request('POST', 'register', { body: { username, password } });
      const session = String(challenge.body.session);
      const answer = await request('POST', 'register', {
        body: { username, password, auth: { type: 'm.login.dummy', session } },
      });
      if (answer.status !== 200) throw new Error(`register failed: ${JSON.stringify(answer)}`);
      return new TestUser(harness, answer.body);
    },
  };
  return harness;
}

/** A logged-in device of a registered user, with shortcuts for the calls tests make. */
export class TestUser {
  readonly userId: string;
  readonly deviceId: string;
  readonly token: string;
  /** The last `next_batch` this device synced to. */
  since: string | undefined;

  readonly #harness: Harness;

  constructor(harness: Harness, login: Body) {
    this.#harness = harness;
    this.userId = String(login.user_id);
    this.deviceId = String(login.device_id);
    this.token = String(login.access_token);
  }

  /** An authenticated request. */
  call<T = Body>(method: string, path: string, body?: unknown, query?: RequestOptions['query']) {
    return this.#harness.request<T>(method, path, { token: this.token, body, query });
  }

  /** An authenticated request that must succeed; returns its body. */
  async ok<T = Body>(
    method: string,
    path: string,
    body?: unknown,
    query?: RequestOptions['query'],
  ): Promise<T> {
    const answer = await this.call<T>(method, path, body, query);
    if (answer.status !== 200) {
      throw new Error(`${method} ${path} answered ${answer.status} ${JSON.stringify(answer.body)}`);
    }
    return answer.body;
  }

  /** Syncs from the last `next_batch` (or from scratch) and remembers the new one. */
  async sync(query: RequestOptions['query'] = {}): Promise<SyncResponse> {
    const params = { ...query };
    if (this.since !== undefined && params.since === undefined) params.since = this.since;
    const body = await this.ok<SyncResponse>('GET', 'sync', undefined, params);
    this.since = body.next_batch;
    return body;
  }

  /** Creates a room and returns its id. */
  async createRoom(body: Body = {}): Promise<string> {
    return String((await this.ok('POST', 'createRoom', body)).room_id);
  }

  /** Sends a message and returns the event id. */
  async send(roomId: string, text: string, txnId = `t${Math.random()}`): Promise<string> {
    const path = `rooms/${encodeURIComponent(roomId)}/send/m.room.message/${txnId}`;
    const body = await this.ok('PUT', path, { msgtype: 'm.text', body: text });
    return String(body.event_id);
  }
}

/** A path under the client API with each parameter percent-encoded. */
export function path(strings: TemplateStringsArray, ...values: string[]): string {
  return strings.reduce((text, part, index) => {
    const value = values[index - 1];
    return text + (value === undefined ? '' : encodeURIComponent(value)) + part;
  });
}

/** Creates a room by `owner` with `guest` invited and joined; returns its id. */
export async function sharedRoom(owner: TestUser, guest: TestUser, extra: Body = {}) {
  const roomId = await owner.createRoom({ invite: [guest.userId], ...extra });
  await guest.ok('POST', path`rooms/${roomId}/join`);
  return roomId;
}
