import type {
  ICreateClientOpts,
  MatrixClient,
  MatrixEvent,
  SyncState as SdkSyncState,
} from 'matrix-js-sdk';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { createTrustingFetch, type FetchFunction } from '../../src/devserver/index.js';
import { startHarness } from './helpers.js';

/** The SDK, loaded once the console is quiet (its global logger binds the console at load). */
let sdk: typeof import('matrix-js-sdk');

beforeAll(async () => {
  for (const method of ['log', 'info', 'debug', 'warn', 'error', 'trace'] as const) {
    vi.spyOn(console, method).mockImplementation(() => undefined);
  }
  sdk = await import('matrix-js-sdk');
});

/** A logger that keeps quiet, so the SDK's chatter does not bury the test output. */
const quiet: NonNullable<ICreateClientOpts['logger']> = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  getChild: () => quiet,
};

/** Every request the clients made, with the status they got back. */
interface Exchange {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

/** A fetch that trusts the server and records each exchange. */
function recordingFetch(caPem: string, log: Exchange[]): FetchFunction {
  const fetch = createTrustingFetch(caPem);
  return async (input, init) => {
    const response = await fetch(input, init);
    const url = new URL(input instanceof Request ? input.url : input.toString());
    log.push({ method: init?.method ?? 'GET', path: url.pathname, status: response.status });
    return response;
  };
}

/** Clients started by the current test, stopped after it. */
const clients: MatrixClient[] = [];

afterEach(() => {
  for (const client of clients.splice(0)) client.stopClient();
});

/** Registers as an unmodified client does: ask, get the auth flows, complete the dummy stage. */
async function register(baseUrl: string, fetchFn: FetchFunction, username: string) {
  const anonymous = sdk.createClient({ baseUrl, fetchFn, logger: quiet });
  let session: string | undefined;
  try {
    await anonymous.registerRequest({ username, password: 'pw' });
  } catch (error) {
    if (!(error instanceof sdk.MatrixError) || error.httpStatus !== 401) throw error;
    session = (error.data as { session?: string }).session;
  }
  const login = await anonymous.registerRequest({
    username,
    password: 'pw',
    auth: { type: 'm.login.dummy', session },
  });
  const client = sdk.createClient({
    baseUrl,
    fetchFn,
    logger: quiet,
    userId: login.user_id,
    accessToken: login.access_token,
    deviceId: login.device_id,
  });
  clients.push(client);
  return client;
}

/** Starts a client and resolves once its first sync is done. */
async function startAndSync(client: MatrixClient): Promise<void> {
  const prepared = new Promise<void>((resolve, reject) => {
    const onSync = (state: SdkSyncState): void => {
      if (state === sdk.SyncState.Prepared) {
        client.off(sdk.ClientEvent.Sync, onSync);
        resolve();
      } else if (state === sdk.SyncState.Error) {
        reject(new Error(`${client.getUserId()} could not sync`));
      }
    };
    client.on(sdk.ClientEvent.Sync, onSync);
  });
  await client.startClient({ initialSyncLimit: 10 });
  await prepared;
}

/** Resolves with the first live timeline event of `room` for which `match` holds. */
function nextMessage(client: MatrixClient, match: (event: MatrixEvent) => boolean) {
  return new Promise<MatrixEvent>((resolve) => {
    const onTimeline = (event: MatrixEvent): void => {
      if (!match(event)) return;
      client.off(sdk.RoomEvent.Timeline, onTimeline);
      resolve(event);
    };
    client.on(sdk.RoomEvent.Timeline, onTimeline);
  });
}

describe('matrix-js-sdk against the development server', () => {
  it('lets two real clients make a direct room, join it by sync and exchange messages', async () => {
    const { server } = await startHarness();
    const exchanges: Exchange[] = [];
    const fetchFn = recordingFetch(server.caPem, exchanges);
    const alice = await register(server.url, fetchFn, 'alice');
    const bob = await register(server.url, fetchFn, 'bob');
    await startAndSync(alice);
    await startAndSync(bob);

    // Bob's client sees the invite arrive through /sync and accepts it.
    const bobJoined = new Promise<string>((resolve, reject) => {
      bob.on(sdk.RoomMemberEvent.Membership, (_event, member) => {
        if (member.userId !== bob.getUserId() || member.membership !== 'invite') return;
        bob.joinRoom(member.roomId).then((room) => resolve(room.roomId), reject);
      });
    });
    // Alice's client learns of the join through its own /sync.
    const aliceSawJoin = new Promise<void>((resolve) => {
      alice.on(sdk.RoomMemberEvent.Membership, (_event, member) => {
        if (member.userId === bob.getUserId() && member.membership === 'join') resolve();
      });
    });

    const { room_id: roomId } = await alice.createRoom({
      preset: sdk.Preset.TrustedPrivateChat,
      invite: [bob.getUserId()!],
      is_direct: true,
    });
    await alice.setAccountData(sdk.EventType.Direct, { [bob.getUserId()!]: [roomId] });
    expect(await bobJoined).toBe(roomId);
    await aliceSawJoin;

    const atBob = nextMessage(bob, (event) => event.getContent().body === 'hello bob');
    await alice.sendTextMessage(roomId, 'hello bob');
    const received = await atBob;
    expect(received.getSender()).toBe(alice.getUserId());
    expect(received.getRoomId()).toBe(roomId);

    const atAlice = nextMessage(alice, (event) => event.getContent().body === 'hi alice');
    await bob.sendTextMessage(roomId, 'hi alice');
    expect((await atAlice).getSender()).toBe(bob.getUserId());

    expect(bob.getRoom(roomId)?.getMember(alice.getUserId()!)?.membership).toBe('join');
    expect(alice.getAccountData(sdk.EventType.Direct)?.getContent()).toEqual({
      [bob.getUserId()!]: [roomId],
    });
    // Everything the clients asked for, the server knew how to answer.
    const failed = exchanges.filter(
      (exchange) => exchange.status >= 404 && exchange.status !== 401,
    );
    expect(failed).toEqual([]);
  });

  it('carries an encrypted conversation between two clients running real Rust crypto', async () => {
    const { server } = await startHarness();
    const exchanges: Exchange[] = [];
    const fetchFn = recordingFetch(server.caPem, exchanges);
    const alice = await register(server.url, fetchFn, 'alice');
    const bob = await register(server.url, fetchFn, 'bob');
    await alice.initRustCrypto({ useIndexedDB: false });
    await bob.initRustCrypto({ useIndexedDB: false });
    await startAndSync(alice);
    await startAndSync(bob);

    const bobJoined = new Promise<void>((resolve, reject) => {
      bob.on(sdk.RoomMemberEvent.Membership, (_event, member) => {
        if (member.userId !== bob.getUserId() || member.membership !== 'invite') return;
        bob.joinRoom(member.roomId).then(() => resolve(), reject);
      });
    });
    const aliceSawJoin = new Promise<void>((resolve) => {
      alice.on(sdk.RoomMemberEvent.Membership, (_event, member) => {
        if (member.userId === bob.getUserId() && member.membership === 'join') resolve();
      });
    });
    const { room_id: roomId } = await alice.createRoom({
      preset: sdk.Preset.TrustedPrivateChat,
      invite: [bob.getUserId()!],
      initial_state: [
        {
          type: 'm.room.encryption',
          state_key: '',
          content: { algorithm: 'm.megolm.v1.aes-sha2' },
        },
      ],
    });
    await bobJoined;
    await aliceSawJoin;

    const decrypted = new Promise<MatrixEvent>((resolve) => {
      bob.on(sdk.MatrixEventEvent.Decrypted, (event) => {
        if (event.getRoomId() === roomId && event.getContent().body === 'secret hello') {
          resolve(event);
        }
      });
    });
    await alice.sendTextMessage(roomId, 'secret hello');
    const event = await decrypted;

    expect(event.isEncrypted()).toBe(true);
    expect(event.getWireType()).toBe('m.room.encrypted');
    expect(event.getSender()).toBe(alice.getUserId());
    // The only refusals: the registration challenge, and "no key backup" when asked for one.
    const refused = exchanges.filter((exchange) => exchange.status >= 400);
    expect(
      new Set(refused.map((exchange) => `${exchange.status} ${exchange.path.split('/').pop()}`)),
    ).toEqual(new Set(['401 register', '404 version']));
    const paths = exchanges.map((exchange) => exchange.path);
    for (const endpoint of ['/keys/upload', '/keys/query', '/keys/claim', '/sendToDevice/']) {
      expect(paths.some((each) => each.includes(endpoint))).toBe(true);
    }
  });
});
