import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startDevServer, type DevServer } from '../../src/devserver/index.js';
import { logInBot } from '../../src/matrix/bot-login.js';
import { MatrixHttp } from '../../src/matrix/matrix-http.js';
import { register } from './matrix-fixtures.js';

let server: DevServer;
beforeAll(async () => {
  server = await startDevServer();
});
afterAll(() => server.close());

const http = () => new MatrixHttp({ baseUrl: server.url, ca: server.caPem });

describe('bot login', () => {
  it('logs in with the password once, then reuses the saved token and device', async () => {
    const name = `bot${Math.random().toString(36).slice(2, 8)}`;
    const account = await register(server, name);
    const sessionFile = join(mkdtempSync(join(tmpdir(), 'vb-login-')), 'session.json');
    const credentials = { userId: account.userId, password: `${name}-password`, sessionFile };

    const first = await logInBot(http(), credentials);
    const second = await logInBot(http(), credentials);
    expect(second.deviceId).toBe(first.deviceId);
    expect(second.userId).toBe(account.userId);
    expect(statSync(sessionFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(sessionFile, 'utf8')).toContain('access_token');
  });

  it('checks a configured token with whoami and refuses one of another user', async () => {
    const account = await register(server, `bot${Math.random().toString(36).slice(2, 8)}`);
    const sessionFile = join(mkdtempSync(join(tmpdir(), 'vb-login-')), 'session.json');
    const ok = await logInBot(http(), {
      userId: account.userId,
      accessToken: account.accessToken,
      sessionFile,
    });
    expect(ok.deviceId).toBe(account.deviceId);
    await expect(
      logInBot(http(), {
        userId: '@someone:localhost',
        accessToken: account.accessToken,
        sessionFile,
      }),
    ).rejects.toThrow(/not to the configured matrix.user_id/);
  });

  it('refuses to start with nothing to log in with', async () => {
    const sessionFile = join(mkdtempSync(join(tmpdir(), 'vb-login-')), 'none.json');
    await expect(logInBot(http(), { userId: '@bot:localhost', sessionFile })).rejects.toThrow(
      /no access token, saved session or password/,
    );
  });
});
