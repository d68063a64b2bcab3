import { MatrixError } from '../matrix/matrix-error.js';
import type { MatrixHttp } from '../matrix/matrix-http.js';

/**
 * Registers `username` on a homeserver that offers the `m.login.dummy` registration flow (the
 * development homeserver does) and returns its session. The password is the one to log in with.
 */
export async function registerAccount(
  http: MatrixHttp,
  username: string,
  password: string,
): Promise<{ userId: string; deviceId: string; accessToken: string }> {
  const path = '/_matrix/client/v3/register';
  const body = { username, password };
  let session: string | undefined;
  try {
    await http.request({ method: 'POST', path, body, anonymous: true });
  } catch (error) {
    // A user-interactive auth challenge (401) names the session to continue.
    if (!(error instanceof MatrixError)) throw error;
    session = 'dummy';
  }
  const answer = await http.request<Record<string, unknown>>({
    method: 'POST',
    path,
    body: { ...body, auth: { type: 'm.login.dummy', session } },
    anonymous: true,
  });
  const { user_id: userId, device_id: deviceId, access_token: accessToken } = answer;
  if (
    typeof userId !== 'string' ||
    typeof deviceId !== 'string' ||
    typeof accessToken !== 'string'
  ) {
    throw new MatrixError('bad_response', 'register answer lacks user_id, device_id or token');
  }
  http.accessToken = accessToken;
  return { userId, deviceId, accessToken };
}
