import { readFileSync } from 'node:fs';

import { writeFileDurably } from './durable-file.js';
import { MatrixClient, type Whoami } from './matrix-client.js';
import { MatrixError } from './matrix-error.js';
import type { MatrixHttp } from './matrix-http.js';

/** How the bot proves who it is. */
export interface BotCredentials {
  /** The bot's user id, as configured. */
  userId: string;
  /** An access token from the config or the environment, if one was given. */
  accessToken?: string;
  /** A password, used once to log in when no token is given. */
  password?: string;
  /** Where the token and device id from that login are kept (mode 0600). */
  sessionFile: string;
}

/** The session the bridge runs under. */
export interface BotSession extends Whoami {
  client: MatrixClient;
}

/**
 * Logs the bot in: a configured access token is checked with whoami; without one, a token
 * saved by an earlier login is reused (so the device id, and with it the bot's encryption
 * identity, stays the same), and only when there is none does it log in with the password,
 * once, and save what it got. The token is never logged.
 */
export async function logInBot(http: MatrixHttp, credentials: BotCredentials): Promise<BotSession> {
  const client = new MatrixClient(http);
  const saved =
    credentials.accessToken === undefined ? readSession(credentials.sessionFile) : undefined;
  const token = credentials.accessToken ?? saved?.accessToken;

  if (token !== undefined) {
    http.accessToken = token;
    const whoami = await client.whoami();
    checkUser(whoami.userId, credentials.userId);
    return { client, ...whoami };
  }
  if (credentials.password === undefined) {
    throw new MatrixError(
      'homeserver_error',
      'no access token, saved session or password for the bot',
    );
  }
  const login = await MatrixClient.login(http, credentials.userId, credentials.password);
  checkUser(login.userId, credentials.userId);
  await writeSession(credentials.sessionFile, {
    accessToken: login.accessToken,
    deviceId: login.deviceId,
  });
  return { client, userId: login.userId, deviceId: login.deviceId };
}

function checkUser(actual: string, configured: string): void {
  if (configured !== '' && actual !== configured) {
    throw new MatrixError(
      'homeserver_error',
      `the access token belongs to ${actual}, not to the configured matrix.user_id ${configured}`,
    );
  }
}

function readSession(path: string): { accessToken: string; deviceId: string } | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const data = JSON.parse(text) as { access_token?: unknown; device_id?: unknown };
  if (typeof data.access_token !== 'string' || typeof data.device_id !== 'string') {
    throw new MatrixError('bad_response', `${path} does not hold a saved session`);
  }
  return { accessToken: data.access_token, deviceId: data.device_id };
}

function writeSession(
  path: string,
  session: { accessToken: string; deviceId: string },
): Promise<void> {
  return writeFileDurably(
    path,
    JSON.stringify({ access_token: session.accessToken, device_id: session.deviceId }),
  );
}
