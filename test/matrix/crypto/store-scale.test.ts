import { expect, it } from 'vitest';

import {
  BRIDGE,
  CALLER,
  connectedPair,
  partiesPerTest,
  reopenParty,
  roomEvent,
  syncParty,
} from './fixtures/parties.js';

const ROOMS = 200;
const MEMBERS = [BRIDGE.userId, CALLER.userId];

const scratch = partiesPerTest();
const open = scratch.open;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

it(`saves and restores a store holding Megolm sessions for ${ROOMS} rooms`, async () => {
  const { relay, bridge, caller } = await connectedPair(scratch.dir);
  open.push(caller);

  // Each room gives the bridge an outbound session, its own inbound copy, and the caller's
  // inbound session: three Megolm sessions per room.
  const invites = [];
  for (let i = 0; i < ROOMS; i += 1) {
    const room = `!room${i}:localhost`;
    await bridge.crypto.ensureRoomKeys(room, MEMBERS);
    await caller.crypto.ensureRoomKeys(room, MEMBERS);
    const content = await caller.crypto.encrypt(room, 'm.call.invite', { call_id: `c${i}` });
    invites.push({ room, event: roomEvent(CALLER.userId, content) });
  }
  await syncParty(relay, bridge);

  // Every encryption ends with a full save of the store.
  const saveMs: number[] = [];
  for (let i = 0; i < 7; i += 1) {
    await bridge.crypto.encrypt('!room0:localhost', 'm.call.candidates', { i });
    saveMs.push(bridge.crypto.storeStats().lastSaveMs);
  }
  const fileBytes = bridge.crypto.storeStats().fileBytes;

  let party = bridge;
  const restoreMs: number[] = [];
  const openMs: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    await party.crypto.close();
    const started = performance.now();
    party = await reopenParty(relay, party);
    openMs.push(performance.now() - started);
    restoreMs.push(party.crypto.storeStats().restoreMs);
  }
  open.push(party);

  for (const invite of [invites[0], invites[ROOMS - 1]]) {
    if (invite === undefined) throw new Error('no invite was made');
    expect((await party.crypto.decrypt(invite.event, invite.room)).event.type).toBe(
      'm.call.invite',
    );
  }
  console.info(
    `store-scale: ${ROOMS} rooms (${ROOMS * 3} Megolm sessions), file ${fileBytes} bytes ` +
      `(${Math.round(fileBytes / (ROOMS * 3))} bytes per session); ` +
      `save median ${median(saveMs).toFixed(1)} ms; restore median ${median(restoreMs).toFixed(1)} ms; ` +
      `open with restore median ${median(openMs).toFixed(1)} ms`,
  );
}, 180_000);
