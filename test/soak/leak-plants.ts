import type { RunningBridge } from '../../src/bridge.js';
import { createPair, startCall, type CallPair } from '../transport/fixtures/call-pair.js';

/**
 * Leaks planted into a running bridge by hooking it from outside, as a bug in the bridge would
 * leak: each hears every call's end through the session table's stop listeners (public API)
 * and leaves something behind. Each returns the undo the soak runner calls after its last
 * sample, so the next soak in the same process starts clean.
 */
export type Plant = (bridge: RunningBridge) => () => Promise<void> | void;

/** On every call's end, keeps a Buffer of `bytes` (its memory is outside the JS heap). */
export function retainBufferPerCall(bytes: number): Plant {
  return (bridge) => {
    const kept: Buffer[] = [];
    const off = bridge.core.sessions.onStop(() => {
      kept.push(Buffer.alloc(bytes, 0x5a));
    });
    return () => {
      off();
      kept.length = 0;
    };
  };
}

/** On every call's end, claims a slot of the shared slot table and never releases it. */
export function claimSlotPerCall(most: number): Plant {
  return (bridge) => {
    const { slots } = bridge.core;
    const claimed: ReturnType<typeof slots.claim>[] = [];
    const off = bridge.core.sessions.onStop(() => {
      if (claimed.length >= most) return;
      const now = Date.now();
      const far = now + 86_400_000;
      claimed.push(
        slots.claim({
          startedAt: now,
          tokenLimit: 1e9,
          durationDeadline: far,
          idleTtl: 86_400_000,
          maxTtlDeadline: far,
          maxCallDeadline: far,
          budgetWarningRatio: 0.8,
          ttlWarningRatio: 0.9,
          budgetHardStop: false,
          ttlHardStop: false,
        }),
      );
    });
    return () => {
      off();
      for (const handle of claimed.splice(0)) slots.release(handle);
    };
  };
}

/**
 * On every call's end, opens a node-datachannel PeerConnection (the bridge's own CallPeer,
 * connected to a caller in this process so that ICE never gives up on it) and never closes it.
 */
export function openPeerPerCall(): Plant {
  return (bridge) => {
    const pairs: CallPair[] = [];
    const starting: Promise<unknown>[] = [];
    const off = bridge.core.sessions.onStop((session) => {
      const pair = createPair(`planted-${session.callId}`);
      pairs.push(pair);
      starting.push(startCall(pair).catch(() => undefined));
    });
    return async () => {
      off();
      await Promise.allSettled(starting);
      for (const pair of pairs.splice(0)) {
        pair.peer.close('leak_undone');
        pair.caller.close();
        await pair.peer.released;
      }
    };
  };
}

/** On every call's end, starts a timer that is never cleared. */
export function timerPerCall(): Plant {
  return (bridge) => {
    const timers: NodeJS.Timeout[] = [];
    const off = bridge.core.sessions.onStop(() => {
      timers.push(setInterval(() => undefined, 60_000));
    });
    return () => {
      off();
      for (const timer of timers.splice(0)) clearInterval(timer);
    };
  };
}
