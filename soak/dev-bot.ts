import { MatrixError } from '../src/matrix/matrix-error.js';
import { MatrixHttp } from '../src/matrix/matrix-http.js';

/**
 * Registers the bridge's bot account on the development homeserver with a password, through
 * the dummy interactive-auth flow real clients use. Returns its user id.
 */
export async function registerBot(
  homeserverUrl: string,
  caPem: string,
  username: string,
  password: string,
): Promise<string> {
  const http = new MatrixHttp({ baseUrl: homeserverUrl, ca: caPem });
  try {
    const body = { username, password };
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
    const answer = await http.request<{ user_id: string }>({
      method: 'POST',
      path: '/_matrix/client/v3/register',
      body: { ...body, auth: { type: 'm.login.dummy', session }, inhibit_login: true },
      anonymous: true,
    });
    return answer.user_id;
  } finally {
    http.close();
  }
}
