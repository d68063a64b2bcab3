import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { beforeAll, describe, expect, it } from 'vitest';

import type { CallPeer } from '../../src/transport/call-peer.js';
import { liveNativePeerCount } from '../../src/transport/native-peer-count.js';
import { createPair, startCall, untilMediaFlows, type CallPair } from './fixtures/call-pair.js';
import { assertLoopbackOnly } from './fixtures/loopback-only.js';

beforeAll(() => {
  assertLoopbackOnly();
});

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const PEERS = 50;

/** What is left of a finished run: only weak references to the peers, and what they reported. */
interface Leftovers {
  peers: WeakRef<CallPeer>[];
  closed: string[][];
  callerErrors: unknown[];
}

/** Connects PEERS calls, closes every peer in a row, waits for the library to confirm. */
async function connectAndCloseAll(): Promise<Leftovers> {
  const pairs: CallPair[] = Array.from({ length: PEERS }, (_, i) => createPair(`!bulk-${i}`));
  for (let i = 0; i < PEERS; i += 10) {
    const group = pairs.slice(i, i + 10);
    await Promise.all(group.map((pair) => startCall(pair)));
    await Promise.all(group.map((pair) => untilMediaFlows(pair)));
  }

  for (const pair of pairs) pair.peer.close('user_hangup');
  await Promise.all(pairs.map((pair) => pair.peer.released));
  for (const pair of pairs) pair.caller.close();

  return {
    peers: pairs.map((pair) => new WeakRef(pair.peer)),
    closed: pairs.map((pair) => pair.events.closed),
    callerErrors: pairs.flatMap((pair) => pair.caller.errors),
  };
}

describe('closing many CallPeers', () => {
  it(`closes ${PEERS} connected peers in a row and leaves nothing behind`, async () => {
    const before = liveNativePeerCount();

    const leftovers = await connectAndCloseAll();

    expect(leftovers.closed).toEqual(Array.from({ length: PEERS }, () => ['user_hangup']));
    expect(leftovers.callerErrors).toEqual([]);
    expect(liveNativePeerCount()).toBe(before);

    // Nothing native may still hold a closed peer through its callbacks.
    for (let round = 0; round < 50 && leftovers.peers.some((ref) => ref.deref()); round += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      collectGarbage();
    }
    expect(leftovers.peers.filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
  }, 120_000);
});
