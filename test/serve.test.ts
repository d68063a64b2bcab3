import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AuditStore } from '../src/audit/audit-store.js';
import { startDevServer, type DevServer } from '../src/devserver/index.js';
import { EventCollector, bridgeConfigText, dmWith, register } from './matrix/matrix-fixtures.js';
import { assertLoopbackOnly } from './transport/fixtures/loopback-only.js';
import { TestCaller } from './transport/fixtures/test-caller.js';
import { until } from './transport/fixtures/wait.js';
import { scratchFolders } from './scratch-folders.js';

const scratch = scratchFolders();

const CLI = new URL('../dist/src/cli.js', import.meta.url).pathname;

let server: DevServer;
beforeAll(async () => {
  assertLoopbackOnly();
  server = await startDevServer();
});
afterAll(() => server.close());

/** Runs `voicebridge serve`; collects its output lines. */
function serveProcess(configFile: string) {
  const child = spawn(process.execPath, [CLI, 'serve', '--config', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  return { child, output: () => out, exited };
}

/** A newly registered bot, and the config text of a bridge logged in as it, for a folder. */
async function newBot(voice = '') {
  const name = `bot${Math.random().toString(36).slice(2, 8)}`;
  const bot = await register(server, name);
  return { bot, configIn: (dir: string) => bridgeConfigText(server, bot, name, dir, voice) };
}

/** Writes a config (its text may depend on its folder) into a fresh folder and serves it. */
function serveWith(text: string | ((dir: string) => string)) {
  const dir = scratch(join(tmpdir(), 'vb-serve-'));
  const configFile = join(dir, 'bridge.toml');
  writeFileSync(configFile, typeof text === 'string' ? text : text(dir));
  return { ...serveProcess(configFile), dir, configFile };
}

describe('voicebridge serve', () => {
  it('reloads its policy on SIGHUP, and on SIGTERM hangs up, commits its records and exits 0', async () => {
    const { bot, configIn } = await newBot('require_e2ee = false');
    const bridge = serveWith(configIn);
    const { dir, configFile } = bridge;
    await until(() => bridge.output().includes('bridge_ready'), 'the bridge to start', 2_000);

    const alice = await register(server, `alice${Math.random().toString(36).slice(2, 8)}`);
    const roomId = await dmWith(alice, bot.userId);
    const seen = new EventCollector(alice);
    const caller = new TestCaller('alice-serve', { payloadType: 111 });
    try {
      await alice.client.sendEvent(roomId, 'm.call.invite', {
        call_id: 'served-call',
        party_id: 'ALICEPHONE',
        version: '1',
        lifetime: 60_000,
        offer: { type: 'offer', sdp: await caller.offer },
      });
      await until(() => seen.of('m.call.answer').length > 0, 'the answer', 2_000);

      // SIGHUP: the new policy blocks alice; her next call is rejected, the live one goes on.
      const { readFileSync } = await import('node:fs');
      const blocked = readFileSync(configFile, 'utf8').replace(
        'require_e2ee = false',
        `require_e2ee = false\nblocked_users = ["${alice.userId}"]`,
      );
      writeFileSync(configFile, blocked);
      bridge.child.kill('SIGHUP');
      await until(() => bridge.output().includes('policy_reloaded'), 'the reload', 2_000);
      await alice.client.sendEvent(roomId, 'm.call.invite', {
        call_id: 'after-reload',
        party_id: 'ALICEPHONE',
        version: '1',
        lifetime: 60_000,
        offer: { type: 'offer', sdp: await caller.offer },
      });
      await until(() => seen.of('m.call.reject').length > 0, 'the reject', 2_000);
      expect(seen.of('m.call.reject')[0]?.content).toMatchObject({
        call_id: 'after-reload',
        'org.voicebridge.reason': 'user_blocked',
      });
      expect(seen.of('m.call.hangup')).toEqual([]);

      bridge.child.kill('SIGTERM');
      expect(await bridge.exited).toBe(0);
      expect(bridge.output()).toContain('bridge_stopped');
      await until(() => seen.of('m.call.hangup').length > 0, 'the shutdown hangup', 2_000);
      expect(seen.of('m.call.hangup')[0]?.content).toMatchObject({
        call_id: 'served-call',
        'org.voicebridge.reason': 'shutdown',
      });
    } finally {
      await seen.stop();
      caller.close();
      if (bridge.child.exitCode === null) bridge.child.kill('SIGKILL');
    }

    const audit = AuditStore.openReadOnly(join(dir, 'audit.db'));
    try {
      const records = audit.recent(2).sort((a, b) => a.call_id.localeCompare(b.call_id));
      expect(records.map((r) => [r.call_id, r.end_reason])).toEqual([
        ['after-reload', 'user_blocked'],
        ['served-call', 'shutdown'],
      ]);
      // The live call kept the policy it started with; the refused one met the new one.
      expect(records[0]?.policy_version).not.toBe(records[1]?.policy_version);
    } finally {
      audit.close();
    }
  });

  it('refuses to start on an invalid config, naming the problem', async () => {
    const bridge = serveWith('[voice]\nmax_concurrent_calls = 0\n');
    expect(await bridge.exited).toBe(2);
    expect(bridge.output()).toContain('voice.max_concurrent_calls');
    expect(bridge.output()).toContain('not starting');
  });

  it('refuses to start without a bot account or a way to log in, naming each key', async () => {
    const bridge = serveWith('[matrix]\nhomeserver_url = "https://127.0.0.1:1"\n');
    expect(await bridge.exited).toBe(2);
    expect(bridge.output()).toContain('matrix.user_id: serve needs the bot account');
    expect(bridge.output()).toContain(
      'matrix.access_token: serve needs an access token or a password',
    );
    expect(bridge.output()).toContain('2 error(s): not starting');
  });

  it('exits 1 with the reason when the homeserver cannot be reached', async () => {
    const bridge = serveWith(
      (dir) =>
        '[matrix]\nhomeserver_url = "https://127.0.0.1:1"\nuser_id = "@bot:example.org"\n' +
        `access_token = "syt_test"\nstore_dir = "${join(dir, 'store')}"\n` +
        `[audit]\npath = "${join(dir, 'audit.db')}"\n[admin]\nport = 0\n`,
    );
    expect(await bridge.exited).toBe(1);
    expect(bridge.output()).toContain('voicebridge serve: cannot start:');
    expect(bridge.output()).not.toContain('syt_test');
  });

  it('stops cleanly on a SIGTERM that comes while it is still starting', async () => {
    const { configIn } = await newBot('require_e2ee = false');
    const bridge = serveWith(configIn);
    // The warning about the weakened policy is logged as start-up begins.
    await until(() => bridge.output().includes('config_warning'), 'start-up to begin');
    bridge.child.kill('SIGTERM');
    expect(await bridge.exited).toBe(0);
    expect(bridge.output()).toContain('"event":"bridge_stopped"');
  });

  it('exits 1 naming media.bind_address when it is not an address of this machine', async () => {
    const { configIn } = await newBot();
    const bridge = serveWith((dir) =>
      configIn(dir).replace('[media]\n', '[media]\nbind_address = "203.0.113.10"\n'),
    );
    expect(await bridge.exited).toBe(1);
    expect(bridge.output()).toContain(
      'cannot start: media.bind_address "203.0.113.10" is not an address of this machine',
    );
  });
});
