import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { assertLoopbackOnly } from '../transport/fixtures/loopback-only.js';
import { until } from '../transport/fixtures/wait.js';

const CLI = new URL('../../dist/src/cli.js', import.meta.url).pathname;

beforeAll(() => assertLoopbackOnly());

/** Folders the tests made, removed at the end. */
const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function scratch(): string {
  const folder = mkdtempSync(join(tmpdir(), 'vb-dev-'));
  folders.push(folder);
  return folder;
}

/** Runs `voicebridge dev ARGS`; collects what it prints. */
function devProcess(args: string[]) {
  const child = spawn(process.execPath, [CLI, 'dev', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** The status of GET `url` sent with another Host header (which fetch cannot set). */
function statusWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('voicebridge dev', () => {
  it('prints the page address, serves the page and its script, and exits 0 on SIGINT', async () => {
    const dev = devProcess(['--port', '0']);
    try {
      await until(
        () => /open http:\/\/127\.0\.0\.1:\d+\//.test(dev.stdout()),
        'the address',
        3_000,
      );
      const pageUrl = /open (http:\/\/127\.0\.0\.1:\d+\/)/.exec(dev.stdout())?.[1] as string;
      const auditPath = /audit {7}(\S+)/.exec(dev.stdout())?.[1] as string;

      const page = await fetch(pageUrl);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(await page.text()).toContain('<script type="module" src="/demo-call.js">');

      const script = await fetch(new URL('demo-call.js', pageUrl));
      expect(script.status).toBe(200);
      expect(script.headers.get('content-type')).toContain('text/javascript');
      const code = await script.text();
      // The bundle carries matrix-js-sdk's call stack and its Rust crypto.
      expect(code).toContain('m.call.invite');
      expect(code).toContain('matrix_sdk_crypto_wasm_bg.wasm');

      const wasm = await fetch(new URL('pkg/matrix_sdk_crypto_wasm_bg.wasm', pageUrl));
      expect(wasm.headers.get('content-type')).toBe('application/wasm');
      expect(Buffer.from(await wasm.arrayBuffer()).subarray(0, 4)).toEqual(
        Buffer.from([0, 0x61, 0x73, 0x6d]),
      );

      // A session for the page, and the two proxies it uses: the homeserver and the admin API.
      const session = (await (await fetch(new URL('dev/session', pageUrl))).json()) as Record<
        string,
        string
      >;
      expect(session).toMatchObject({
        user_id: '@demo:localhost',
        bot_user_id: '@voicebridge:localhost',
      });
      const whoami = await fetch(new URL('_matrix/client/v3/account/whoami', pageUrl), {
        headers: { authorization: `Bearer ${session.access_token}` },
      });
      expect(await whoami.json()).toMatchObject({
        user_id: '@demo:localhost',
        device_id: session.device_id,
      });
      const calls = await fetch(new URL('api/calls', pageUrl));
      expect(await calls.json()).toMatchObject({ count: 0, calls: [] });
      expect((await fetch(new URL('nothing-here', pageUrl))).status).toBe(404);
      // A site whose name was rebound to 127.0.0.1 still names itself: refused.
      expect(await statusWithHost(pageUrl, 'rebound.example')).toBe(421);
      expect(existsSync(auditPath)).toBe(true);

      dev.child.kill('SIGINT');
      expect(await dev.exited, dev.stdout() + dev.stderr()).toBe(0);
      expect(dev.stdout()).toContain('"event":"dev_stopped"');
      // The temporary folder it made is gone with it.
      expect(existsSync(auditPath)).toBe(false);
    } finally {
      if (dev.child.exitCode === null) dev.child.kill('SIGKILL');
    }
  });

  it('keeps its audit store in --data DIR and stops on SIGTERM', async () => {
    const dir = scratch();
    const dev = devProcess(['--port', '0', '--data', dir]);
    try {
      await until(() => dev.stdout().includes('open http://'), 'the address', 3_000);
      dev.child.kill('SIGTERM');
      expect(await dev.exited, dev.stdout() + dev.stderr()).toBe(0);
      // The audit store stays; the bot's store, of a homeserver now gone, does not.
      expect(readdirSync(dir).filter((name) => !name.startsWith('audit.db'))).toEqual([]);
      expect(existsSync(join(dir, 'audit.db'))).toBe(true);
    } finally {
      if (dev.child.exitCode === null) dev.child.kill('SIGKILL');
    }
  });

  it('refuses a bad option or config with exit 2, naming the problem', async () => {
    const notAFolder = devProcess(['--data', CLI]);
    expect(await notAFolder.exited).toBe(2);
    expect(notAFolder.stderr()).toContain('--data must name a folder');

    const badPort = devProcess(['--port', 'eighty']);
    expect(await badPort.exited).toBe(2);
    expect(badPort.stderr()).toContain('--port must be an integer from 0 to 65535, got "eighty"');

    const unknown = devProcess(['--colour']);
    expect(await unknown.exited).toBe(2);
    expect(unknown.stderr()).toContain("Unknown option '--colour'");

    const dir = scratch();
    const invalid = join(dir, 'invalid.toml');
    writeFileSync(invalid, '[voice]\nmax_concurrent_calls = 0\n');
    const badConfig = devProcess(['--config', invalid]);
    expect(await badConfig.exited).toBe(2);
    expect(badConfig.stderr()).toContain(`${invalid}: voice.max_concurrent_calls`);

    const owned = join(dir, 'owned.toml');
    writeFileSync(owned, '[matrix]\nhomeserver_url = "https://matrix.example.org"\n');
    const ownedConfig = devProcess(['--config', owned]);
    expect(await ownedConfig.exited).toBe(2);
    expect(ownedConfig.stderr()).toContain(`${owned}: matrix: is set by voicebridge dev`);

    const missing = devProcess(['--config', join(dir, 'absent.toml')]);
    expect(await missing.exited).toBe(2);
    expect(missing.stderr()).toContain('absent.toml');
  });
});
