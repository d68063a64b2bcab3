import { randomBytes, randomInt } from 'node:crypto';
import { watch } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { DeviceId, OlmMachine, UserId } from '@matrix-org/matrix-sdk-crypto-wasm';
import { afterEach, beforeEach, expect, it } from 'vitest';

import { CryptoStore } from '../../../src/matrix/crypto/crypto-store.js';
import { BRIDGE, cleanup, makeTempDir } from './fixtures/parties.js';
import { TsChild } from './fixtures/ts-child.js';

const KILLS = 12;

let dir: string;
const children: TsChild[] = [];

beforeEach(async () => {
  dir = await makeTempDir();
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.process.exitCode === null && child.process.signalCode === null) {
      child.process.kill('SIGKILL');
      await child.exited;
    }
  }
  await cleanup(dir);
});

/** Opens the saved store the way the bridge does and reads its identity and room key count. */
async function inspect(
  storeDir: string,
  key: Uint8Array,
): Promise<{ curve25519: string; ed25519: string; roomKeys: number }> {
  const store = await CryptoStore.open(storeDir, key);
  const machine = await OlmMachine.initFromStore(
    new UserId(BRIDGE.userId),
    new DeviceId(BRIDGE.deviceId),
    store.handle,
  );
  try {
    return {
      curve25519: machine.identityKeys.curve25519.toBase64(),
      ed25519: machine.identityKeys.ed25519.toBase64(),
      roomKeys: (await machine.roomKeyCounts()).total,
    };
  } finally {
    machine.close();
    await store.close();
  }
}

it('never leaves a broken store when the process is killed with SIGKILL during saves', async () => {
  const storeDir = join(dir, 'store');
  const key = new Uint8Array(randomBytes(32));
  let identity: { curve25519: string; ed25519: string } | undefined;
  let nextRoom = 1;
  let killedMidSave = 0;

  for (let round = 0; round < KILLS; round += 1) {
    const child = new TsChild(new URL('./fixtures/save-loop-child.ts', import.meta.url), []);
    children.push(child);
    child.send(
      JSON.stringify({
        ...BRIDGE,
        storeDir,
        key: Buffer.from(key).toString('base64'),
        firstRoom: nextRoom,
      }),
    );
    const ready = await child.nextLine();
    expect(ready.startsWith('READY ')).toBe(true);
    identity ??= JSON.parse(ready.slice('READY '.length)) as typeof identity;

    // Let it save a random number of rooms, then kill it: in even rounds at a random moment,
    // in odd rounds as soon as a save creates its temp file, to be sure some kills land
    // in the middle of writing.
    let lastSaved = nextRoom - 1;
    const rooms = randomInt(1, 6);
    while (lastSaved < nextRoom - 1 + rooms) {
      lastSaved = Number((await child.nextLine()).split(' ')[1]);
    }
    if (round % 2 === 0) {
      await sleep(randomInt(0, 12));
      child.process.kill('SIGKILL');
    } else {
      const watcher = watch(storeDir, (_event, name) => {
        if (name?.endsWith('.tmp') === true) child.process.kill('SIGKILL');
      });
      await child.exited.finally(() => watcher.close());
    }
    expect((await child.exited).signal).toBe('SIGKILL');
    // Lines printed before the kill are saves that completed.
    for (;;) {
      const line = await child.nextLine().catch(() => undefined);
      if (line === undefined) break;
      lastSaved = Number(line.split(' ')[1]);
    }
    const files = await readdir(storeDir);
    if (files.some((name) => name.endsWith('.tmp'))) killedMidSave += 1;

    const restored = await inspect(storeDir, key);
    expect({ curve25519: restored.curve25519, ed25519: restored.ed25519 }).toEqual(identity);
    // Every room reported saved is there; at most one more, saved but not yet reported.
    expect(restored.roomKeys).toBeGreaterThanOrEqual(lastSaved);
    expect(restored.roomKeys).toBeLessThanOrEqual(lastSaved + 1);
    nextRoom = restored.roomKeys + 1;
  }

  // The kills timed by the watcher must have caught some saves half-way.
  console.info(`kill-during-save: ${killedMidSave} of ${KILLS} kills left a temp file`);
  expect(killedMidSave).toBeGreaterThan(0);
}, 180_000);
