import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import {
  DeviceId,
  initAsync,
  OlmMachine,
  StoreHandle,
  UserId,
} from '@matrix-org/matrix-sdk-crypto-wasm';
import { describe, expect, it } from 'vitest';

import { BridgeCrypto } from '../../../src/matrix/crypto/bridge-crypto.js';
import type { IdbFactory } from '../../../src/matrix/crypto/idb-types.js';
import { installLibraryIndexedDb } from '../../../src/matrix/crypto/library-indexeddb.js';
import { encodeStoreFile, STORE_FILE_NAME } from '../../../src/matrix/crypto/store-file.js';
import { LOCK_FILE_NAME } from '../../../src/matrix/crypto/store-lock.js';
import { readSnapshot } from '../../../src/matrix/crypto/store-snapshot.js';
import { KeyRelay } from './fixtures/key-relay.js';
import {
  BRIDGE,
  CALLER,
  openParty,
  partiesPerTest,
  type Party,
  ROOM,
  syncParty,
} from './fixtures/parties.js';
import { scanForPrivateKey } from './fixtures/private-key-scan.js';

const scratch = partiesPerTest();
const open = scratch.open;

async function openBridge(storeDir = join(scratch.dir, 'store'), key?: Uint8Array): Promise<Party> {
  const party = await openParty(new KeyRelay(), BRIDGE, storeDir, key);
  open.push(party);
  return party;
}

async function closeBridge(party: Party): Promise<void> {
  open.splice(open.indexOf(party), 1);
  await party.crypto.close();
}

function mode(info: { mode: number }): string {
  return (info.mode & 0o777).toString(8);
}

describe('the crypto store on disk', () => {
  it('writes the store file 0600 in a 0700 folder, even under a permissive umask', async () => {
    const previous = process.umask(0);
    try {
      const bridge = await openBridge(join(scratch.dir, 'nested', 'store'));
      await bridge.crypto.sendOutgoingRequests();

      expect(mode(await stat(bridge.storeDir))).toBe('700');
      expect(mode(await stat(join(bridge.storeDir, STORE_FILE_NAME)))).toBe('600');
      expect(mode(await stat(join(bridge.storeDir, LOCK_FILE_NAME)))).toBe('600');
      expect((await readdir(bridge.storeDir)).sort()).toEqual([STORE_FILE_NAME, LOCK_FILE_NAME]);
    } finally {
      process.umask(previous);
    }
  });

  it('tightens a store folder that others could read', async () => {
    const storeDir = join(scratch.dir, 'loose');
    const first = await openBridge(storeDir);
    await closeBridge(first);
    const { chmod } = await import('node:fs/promises');
    await chmod(storeDir, 0o755);

    await openBridge(storeDir, first.key);

    expect(mode(await stat(storeDir))).toBe('700');
  });

  it('keeps the identity private keys out of the saved file', async () => {
    const bridge = await openBridge();
    const identity = bridge.crypto.identityKeys;
    await closeBridge(bridge);
    const bytes = await readFile(join(bridge.storeDir, STORE_FILE_NAME));

    const curve = scanForPrivateKey(bytes, 'x25519', identity.curve25519);
    const signing = scanForPrivateKey(bytes, 'ed25519', identity.ed25519);

    expect(curve.candidates).toBeGreaterThan(0);
    expect(curve.privateKey).toBeUndefined();
    expect(signing.privateKey).toBeUndefined();
    expect(curve.markers).toEqual([]);
  });

  it('finds the private keys with the same scan when a store is saved without a key', async () => {
    // The control for the test above: proves the scan sees keys in the encoding the store uses.
    await initAsync();
    const idb = installLibraryIndexedDb();
    const storeName = `control-${randomUUID()}`;
    const handle = await StoreHandle.open(storeName, undefined);
    const machine = await OlmMachine.initFromStore(
      new UserId(BRIDGE.userId),
      new DeviceId(BRIDGE.deviceId),
      handle,
    );
    const bytes = encodeStoreFile(await readSnapshot(idb.factory, storeName));
    const curve25519 = machine.identityKeys.curve25519.toBase64();
    const ed25519 = machine.identityKeys.ed25519.toBase64();
    machine.close();

    expect(scanForPrivateKey(bytes, 'x25519', curve25519).privateKey).toBeDefined();
    expect(scanForPrivateKey(bytes, 'ed25519', ed25519).privateKey).toBeDefined();
    expect(scanForPrivateKey(bytes, 'x25519', curve25519).markers).toContain('diffie_hellman_key');
  });

  it('refuses a saved store opened with another key', async () => {
    const bridge = await openBridge();
    await closeBridge(bridge);

    const error = await openBridge(bridge.storeDir, new Uint8Array(32).fill(9)).catch(
      (e: unknown) => e,
    );

    expect(error).toMatchObject({ code: 'store_key_mismatch' });
  });

  it('refuses a saved store that belongs to another device', async () => {
    const bridge = await openBridge();
    await closeBridge(bridge);

    const error = await BridgeCrypto.open({
      userId: BRIDGE.userId,
      deviceId: 'OTHERDEVICE',
      storeDir: bridge.storeDir,
      key: bridge.key,
      send: () => Promise.resolve('{}'),
    }).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'store_key_mismatch' });
  });

  it('refuses a damaged store file instead of starting a new identity', async () => {
    const bridge = await openBridge();
    await closeBridge(bridge);
    const file = join(bridge.storeDir, STORE_FILE_NAME);
    const bytes = await readFile(file);
    bytes[bytes.length - 10] = (bytes[bytes.length - 10] ?? 0) ^ 0xff;
    await writeFile(file, bytes);

    const error = await openBridge(bridge.storeDir, bridge.key).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'store_unreadable' });
  });

  it('refuses a second open of a folder that is already open', async () => {
    const bridge = await openBridge();

    const error = await openBridge(bridge.storeDir, bridge.key).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'store_in_use' });
  });

  it('refuses a folder that another live process holds', async () => {
    const bridge = await openBridge();
    await closeBridge(bridge);
    await writeFile(join(bridge.storeDir, LOCK_FILE_NAME), `${process.ppid}\n`, { mode: 0o600 });

    const error = await openBridge(bridge.storeDir, bridge.key).catch((e: unknown) => e);

    expect(error).toMatchObject({
      code: 'store_in_use',
      message: expect.stringContaining(`process ${process.ppid}`) as unknown,
    });
  });

  it('takes over the lock of a process that died without releasing it', async () => {
    const bridge = await openBridge();
    await closeBridge(bridge);
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    await writeFile(join(bridge.storeDir, LOCK_FILE_NAME), `${dead}\n`, { mode: 0o600 });

    const reopened = await openBridge(bridge.storeDir, bridge.key);

    expect(reopened.crypto.identityKeys).toEqual(bridge.crypto.identityKeys);
    expect((await readFile(join(bridge.storeDir, LOCK_FILE_NAME), 'utf8')).trim()).toBe(
      String(process.pid),
    );
  });

  it('removes temp files that a killed save left behind', async () => {
    const bridge = await openBridge();
    await closeBridge(bridge);
    const leftover = join(bridge.storeDir, `${STORE_FILE_NAME}.999-1.tmp`);
    await writeFile(leftover, 'half a save');

    const reopened = await openBridge(bridge.storeDir, bridge.key);

    expect(reopened.crypto.identityKeys).toEqual(bridge.crypto.identityKeys);
    expect((await readdir(bridge.storeDir)).sort()).toEqual([STORE_FILE_NAME, LOCK_FILE_NAME]);
  });

  it('writes nothing at a save point when nothing changed', async () => {
    const bridge = await openBridge();
    await bridge.crypto.sendOutgoingRequests();
    const before = bridge.crypto.storeStats();

    await bridge.crypto.outgoingRequests();
    await bridge.crypto.outgoingRequests();

    const after = bridge.crypto.storeStats();
    expect(after.saves).toBe(before.saves);
    expect(after.savesSkipped).toBe(before.savesSkipped + 2);
  });

  it('installs only the IndexedDB names the crypto library uses, out of sight', async () => {
    await openBridge();
    // fake-indexeddb's typings need the DOM library, which this project does not load.
    const shared = (await import('fake-indexeddb')) as unknown as { indexedDB: IdbFactory };

    const installed = Object.getOwnPropertyNames(globalThis).filter((name) =>
      /^(indexedDB|IDB)/.test(name),
    );

    expect(installed.sort()).toEqual([
      'IDBCursor',
      'IDBCursorWithValue',
      'IDBDatabase',
      'IDBKeyRange',
      'IDBOpenDBRequest',
      'IDBRequest',
      'indexedDB',
    ]);
    expect(Object.keys(globalThis).filter((name) => /^(indexedDB|IDB)/.test(name))).toEqual([]);
    expect(await shared.indexedDB.databases()).toEqual([]);
  });

  it('has the keys it is about to upload on disk before the upload leaves', async () => {
    const storeDir = join(scratch.dir, 'store');
    const copyDir = join(scratch.dir, 'copy');
    const key = new Uint8Array(32).fill(5);
    const relay = new KeyRelay();
    const relaySend = relay.senderFor(BRIDGE.userId, BRIDGE.deviceId);
    let uploads = 0;
    let replenished: unknown;
    const bridge = await BridgeCrypto.open({
      ...BRIDGE,
      storeDir,
      key,
      send: async (request) => {
        if (request.kind === 'keys_upload' && ++uploads === 2) {
          // What a crash right now would leave: the file as it is at the moment of sending.
          await mkdir(copyDir, { mode: 0o700 });
          await copyFile(join(storeDir, STORE_FILE_NAME), join(copyDir, STORE_FILE_NAME));
          replenished = (JSON.parse(request.body) as { one_time_keys?: unknown }).one_time_keys;
        }
        return relaySend(request);
      },
    });
    const party = { ...BRIDGE, storeDir, key, crypto: bridge };
    const caller = await openParty(relay, CALLER, join(scratch.dir, 'caller'));
    open.push(caller);
    await syncParty(relay, party);
    await syncParty(relay, caller);
    // The caller claims one of the bridge's one-time keys; the bridge makes a new one to upload.
    await caller.crypto.ensureRoomKeys(ROOM, [BRIDGE.userId, CALLER.userId]);
    await syncParty(relay, party);
    await bridge.close();

    const restored = await BridgeCrypto.open({
      ...BRIDGE,
      storeDir: copyDir,
      key,
      send: () => Promise.resolve('{}'),
    });
    const requests = await restored.outgoingRequests();
    await restored.close();

    // The restored device offers the very keys already sent, not new ones the server lacks.
    const upload = requests.find((request) => request.kind === 'keys_upload');
    expect(replenished).toBeDefined();
    expect((JSON.parse(upload?.body ?? '{}') as { one_time_keys?: unknown }).one_time_keys).toEqual(
      replenished,
    );
  });

  it('names the key when its size is wrong', async () => {
    const error = await openBridge(join(scratch.dir, 'short'), new Uint8Array(16)).catch(
      (e: unknown) => e,
    );

    expect(error).toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining('key: expected 32 bytes, got Uint8Array(16)') as unknown,
    });
  });
});
