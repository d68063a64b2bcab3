import { describe, expect, it } from 'vitest';

import type { OutgoingCryptoRequest } from '../../../src/matrix/crypto/crypto-request.js';
import type { MatrixEvent } from '../../../src/matrix/crypto/crypto-events.js';
import type { KeyRelay } from './fixtures/key-relay.js';
import {
  BRIDGE,
  CALLER,
  callInvite,
  connectedPair,
  partiesPerTest,
  type Party,
  reopenParty,
  ROOM,
  roomEvent,
  syncParty,
} from './fixtures/parties.js';
import { TsChild } from './fixtures/ts-child.js';

const MEMBERS = [BRIDGE.userId, CALLER.userId];

const scratch = partiesPerTest();
const open = scratch.open;

/**
 * A bridge and a caller that have talked both ways, and an invite from the caller that the
 * bridge decrypted before it restarts.
 */
async function talkedBeforeRestart(): Promise<{
  relay: KeyRelay;
  bridge: Party;
  caller: Party;
  invite: MatrixEvent;
  bridgeSessionId: unknown;
}> {
  const { relay, bridge, caller } = await connectedPair(scratch.dir);
  open.push(caller);

  const invite = roomEvent(
    CALLER.userId,
    await caller.crypto.encrypt(ROOM, 'm.call.invite', callInvite('before-restart')),
  );
  expect((await bridge.crypto.decrypt(invite, ROOM)).event.type).toBe('m.call.invite');

  const answer = await bridge.crypto.encrypt(ROOM, 'm.call.answer', { call_id: 'before' });
  await syncParty(relay, caller);
  expect((await caller.crypto.decrypt(roomEvent(BRIDGE.userId, answer), ROOM)).event.type).toBe(
    'm.call.answer',
  );
  return { relay, bridge, caller, invite, bridgeSessionId: answer.session_id };
}

describe('a bridge re-opened from its store', () => {
  it('keeps its identity and sessions when re-opened in the same process', async () => {
    const { relay, bridge, caller, invite, bridgeSessionId } = await talkedBeforeRestart();
    const identity = bridge.crypto.identityKeys;
    await bridge.crypto.close();
    const sharesBefore = relay.sent(BRIDGE.userId, 'to_device').length;
    const claimsBefore = relay.sent(BRIDGE.userId, 'keys_claim').length;

    const reopened = await reopenParty(relay, bridge);
    open.push(reopened);

    expect(reopened.crypto.identityKeys).toEqual(identity);
    expect(reopened.crypto.storeStats().restoreMs).toBeGreaterThan(0);

    // An event from a Megolm session made before the restart.
    const old = await reopened.crypto.decrypt(invite, ROOM);
    expect(old.event.content).toEqual(callInvite('before-restart'));

    // A new event on the caller's existing session.
    const hangup = { call_id: 'before-restart', version: '1', reason: 'user_hangup' };
    const fresh = await caller.crypto.encrypt(ROOM, 'm.call.hangup', hangup);
    expect(
      (await reopened.crypto.decrypt(roomEvent(CALLER.userId, fresh), ROOM)).event.content,
    ).toEqual(hangup);

    // Encrypting to the caller reuses the outbound session: nothing is shared or claimed again.
    await reopened.crypto.ensureRoomKeys(ROOM, MEMBERS);
    const answer = await reopened.crypto.encrypt(ROOM, 'm.call.answer', { call_id: 'after' });
    expect(answer.session_id).toBe(bridgeSessionId);
    expect(relay.sent(BRIDGE.userId, 'to_device')).toHaveLength(sharesBefore);
    expect(relay.sent(BRIDGE.userId, 'keys_claim')).toHaveLength(claimsBefore);
    const decrypted = await caller.crypto.decrypt(roomEvent(BRIDGE.userId, answer), ROOM);
    expect(decrypted.event.content).toEqual({ call_id: 'after' });
  });

  it('keeps its identity and sessions when re-opened in another process', async () => {
    const { relay, bridge, caller, invite, bridgeSessionId } = await talkedBeforeRestart();
    const identity = bridge.crypto.identityKeys;
    await bridge.crypto.close();
    const sharesBefore = relay.sent(BRIDGE.userId, 'to_device').length;
    const send = relay.senderFor(BRIDGE.userId, BRIDGE.deviceId);

    const child = new TsChild(new URL('./fixtures/reopen-child.ts', import.meta.url), []);
    child.send(
      JSON.stringify({
        ...BRIDGE,
        storeDir: bridge.storeDir,
        key: Buffer.from(bridge.key).toString('base64'),
        roomId: ROOM,
        members: MEMBERS,
        event: invite,
      }),
    );
    const printed = new Map<string, unknown>();
    while (!printed.has('DONE')) {
      const line = await child.nextLine();
      const [tag = '', ...rest] = line.split(' ');
      if (tag === 'REQUEST') {
        const [id = '', ...json] = rest;
        const response = await send(JSON.parse(json.join(' ')) as OutgoingCryptoRequest);
        child.send(`RESPONSE ${id} ${response}`);
      } else {
        printed.set(tag, JSON.parse(rest.join(' ')));
      }
    }
    expect(await child.exited).toEqual({ code: 0, signal: null });

    expect(printed.get('IDENTITY')).toEqual(identity);
    expect(printed.get('DECRYPTED')).toMatchObject({
      type: 'm.call.invite',
      content: callInvite('before-restart'),
    });
    const answer = printed.get('ENCRYPTED') as Record<string, unknown>;
    expect(answer.session_id).toBe(bridgeSessionId);
    expect(relay.sent(BRIDGE.userId, 'to_device')).toHaveLength(sharesBefore);
    const decrypted = await caller.crypto.decrypt(roomEvent(BRIDGE.userId, answer), ROOM);
    expect(decrypted.event.content).toEqual({ call_id: 'from-child' });
  });
});
