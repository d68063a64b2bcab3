import { createSocket } from 'node:dgram';

import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { TransportError } from '../../src/transport/transport-error.js';
import { liveNativePeerCount } from '../../src/transport/native-peer-count.js';
import {
  closePair,
  createPair,
  startCall,
  untilMediaFlows,
  type CallPair,
} from './fixtures/call-pair.js';
import { assertLoopbackOnly } from './fixtures/loopback-only.js';
import { buildRtp, rtpSequence } from './fixtures/rtp.js';
import { until } from './fixtures/wait.js';

beforeAll(() => {
  assertLoopbackOnly();
});

describe('CallPeer over loopback', () => {
  const pairs: CallPair[] = [];
  let nextId = 0;
  const pair = (options?: Parameters<typeof createPair>[1]): CallPair => {
    const created = createPair(`!call-${(nextId += 1)}`, options);
    pairs.push(created);
    return created;
  };

  afterEach(async () => {
    for (const each of pairs.splice(0)) {
      closePair(each);
      await each.peer.released;
      expect(each.caller.errors).toEqual([]);
    }
  });

  it('answers with the offer mid and Opus payload type, and its own SSRC', async () => {
    const call = pair({ caller: { payloadType: 101, mid: 'speech' } });

    const answer = await startCall(call);

    expect(answer).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 101\r?$/m);
    expect(answer).toMatch(/^a=mid:speech\r?$/m);
    expect(answer).toMatch(/^a=rtpmap:101 opus\/48000\/2\r?$/im);
    expect(answer).toContain(`a=ssrc:${call.peer.ssrc} `);
    expect(call.peer.ssrc).not.toBe(call.caller.ssrc);
    expect(call.peer.payloadType).toBe(101);
  });

  it('reaches connected and opens media', async () => {
    const call = pair();

    await startCall(call);
    await untilMediaFlows(call);

    expect(call.events.states).toContain('connecting');
    expect(call.events.states.at(-1)).toBe('connected');
    expect(call.events.mediaOpened).toBe(1);
  });

  it('carries RTP both ways intact and counts it', async () => {
    const call = pair();
    await startCall(call);
    await untilMediaFlows(call);
    const payload = (n: number): Buffer => Buffer.from([0xf8, n, 0xff, 0xfe, n]);
    const upstream = [1, 2, 3, 4, 5].map((n) =>
      buildRtp(call.caller.payloadType, n, n * 960, call.caller.ssrc, payload(n)),
    );
    const downstream = [11, 12, 13, 14, 15].map((n) =>
      buildRtp(call.peer.payloadType, n, n * 960, call.peer.ssrc, payload(n)),
    );

    for (const packet of upstream) expect(call.caller.send(packet)).toBe(true);
    for (const packet of downstream) expect(call.peer.sendRtp(packet)).toBe(true);
    await until(() => call.events.rtp.length >= 5, 'five packets at the bridge');
    await until(() => call.caller.received.length >= 5, 'five packets at the caller');

    expect(call.events.rtp.map(rtpSequence).sort()).toEqual([1, 2, 3, 4, 5]);
    for (const packet of call.events.rtp) {
      expect(packet).toEqual(upstream[rtpSequence(packet) - 1]);
    }
    expect(call.caller.received.map(rtpSequence).sort()).toEqual([11, 12, 13, 14, 15]);
    for (const packet of call.caller.received) {
      expect(packet).toEqual(downstream[rtpSequence(packet) - 11]);
    }
    const bytes = (packets: Buffer[]): number => packets.reduce((sum, p) => sum + p.length, 0);
    expect(call.peer.stats()).toMatchObject({
      packetsIn: 5,
      bytesIn: bytes(upstream),
      packetsOut: 5,
      bytesOut: bytes(downstream),
      droppedIn: 0,
      droppedOut: 0,
    });
  });

  it('drops received packets whose payload type is not the offer Opus', async () => {
    const call = pair();
    await startCall(call);
    await untilMediaFlows(call);

    call.caller.send(buildRtp(13, 1, 0, call.caller.ssrc, Buffer.from([0])));
    call.caller.send(buildRtp(call.caller.payloadType, 2, 960, call.caller.ssrc, Buffer.from([1])));
    await until(() => call.peer.stats().droppedIn + call.peer.stats().packetsIn >= 2, 'both');

    expect(call.events.rtp.map(rtpSequence)).toEqual([2]);
    expect(call.peer.stats()).toMatchObject({ packetsIn: 1, droppedIn: 1 });
  });

  it('delivers local candidates in batches that end with end-of-candidates', async () => {
    const call = pair();
    await startCall(call);
    await untilMediaFlows(call);
    await until(
      () => call.events.batches.flat().some((c) => c.candidate === ''),
      'end-of-candidates',
    );

    const all = call.events.batches.flat();
    expect(all.at(-1)).toEqual({ candidate: '', sdpMid: call.caller.mid, sdpMLineIndex: 0 });
    expect(all.filter((c) => c.candidate === '')).toHaveLength(1);
    for (const candidate of all.slice(0, -1)) {
      expect(candidate.candidate).toMatch(/^candidate:\S+ 1 UDP \d+ 127\.0\.0\.1 \d+ typ host/);
      expect(candidate.sdpMid).toBe(call.caller.mid);
    }
  });

  it('applies candidates that arrive before the offer once the offer is set', async () => {
    const call = pair();
    // The caller never learns the bridge's candidates, so only the queued ones can connect.
    call.deliverPeerCandidates = false;
    const offer = await call.caller.offer;
    await until(() => call.caller.gatheringComplete, 'the caller to finish gathering');
    await until(() => call.caller.localCandidates.length > 0, 'caller candidates');

    const outcomes = call.caller.localCandidates.map((c) => call.peer.addRemoteCandidate(c));
    const { sdp } = await call.peer.answer(offer);
    call.caller.acceptAnswer(sdp.replace(/^a=candidate:.*\r?\n/gm, ''));
    await untilMediaFlows(call);

    expect(outcomes.every((outcome) => outcome === 'queued')).toBe(true);
    expect(call.peer.state).toBe('connected');
  });

  it('skips end-of-candidates from the caller and still connects', async () => {
    const call = pair();
    const offer = await call.caller.offer;
    const before = call.peer.addRemoteCandidate({ candidate: '', sdpMid: call.caller.mid });
    const { sdp } = await call.peer.answer(offer);
    call.caller.acceptAnswer(sdp);
    call.caller.forwardCandidatesTo((candidate) => call.peer.addRemoteCandidate(candidate));
    const after = call.peer.addRemoteCandidate({ candidate: '', sdpMLineIndex: 0 });
    await untilMediaFlows(call);

    expect([before, after]).toEqual(['skipped', 'skipped']);
    expect(call.events.errors).toEqual([]);
  });

  it('refuses candidates naming a host instead of an IP address', async () => {
    const call = pair();
    await startCall(call);

    const outcome = call.peer.addRemoteCandidate({
      candidate:
        'candidate:1 1 UDP 2122260223 3f1e2b7c-9f0e-4c1d-a1b2-000000000000.local 50000 typ host',
      sdpMid: call.caller.mid,
    });

    expect(outcome).toBe('rejected');
  });

  it('refuses an invalid offer with invalid_sdp and stays usable', async () => {
    const call = pair();
    const offer = await call.caller.offer;

    const error = await call.peer
      .answer(offer.replace(/^a=rtpmap:.*$/gm, ''))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ code: 'invalid_sdp' });
    expect((error as Error).message).toMatch(/Opus rtpmap/);

    call.caller.acceptAnswer((await call.peer.answer(offer)).sdp);
    call.caller.forwardCandidatesTo((candidate) => call.peer.addRemoteCandidate(candidate));
    await untilMediaFlows(call);
  });

  it('refuses a second answer with invalid_state and an answer after close with closed', async () => {
    const call = pair();
    const offer = await call.caller.offer;
    await call.peer.answer(offer);

    await expect(call.peer.answer(offer)).rejects.toMatchObject({ code: 'invalid_state' });
    call.peer.close('user_hangup');
    await expect(call.peer.answer(offer)).rejects.toMatchObject({ code: 'closed' });
  });

  it('closes with negotiation_failed when no local port is free, without crashing', async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const { port } = socket.address();
    const call = pair({ peer: { portRangeBegin: port, portRangeEnd: port } });
    const offer = await call.caller.offer;

    const error = await call.peer.answer(offer).catch((e: unknown) => e);
    await call.peer.released;
    socket.close();

    expect(error).toMatchObject({ code: 'negotiation_failed' });
    expect((error as Error).message).toMatch(/Failed to gather local ICE candidates/);
    expect(call.events.closed).toEqual(['negotiation_failed']);
  });

  it('returns false from sendRtp before the answer and after close, and closes once', async () => {
    const call = pair();
    const packet = buildRtp(109, 1, 0, 1, Buffer.from([1, 2, 3]));
    expect(call.peer.sendRtp(packet)).toBe(false);
    await startCall(call);
    await untilMediaFlows(call);

    call.peer.close('user_hangup');
    call.peer.close('again');
    const results = Array.from({ length: 20 }, () => call.peer.sendRtp(packet));
    await call.peer.released;

    expect(results.every((sent) => sent === false)).toBe(true);
    expect(call.peer.sendRtp(packet)).toBe(false);
    expect(call.peer.stats().packetsOut).toBe(0);
    expect(call.events.closed).toEqual(['user_hangup']);
    expect(call.events.states.at(-1)).toBe('closed');
    expect(call.peer.closeReason).toBe('user_hangup');
  });

  it('rejects a pending answer with closed when closed while the offer is being set', async () => {
    const calls = Array.from({ length: 10 }, () => pair());
    const offers = await Promise.all(calls.map((call) => call.caller.offer));

    const answers = calls.map((call, index) => {
      call.caller.forwardCandidatesTo((candidate) => call.peer.addRemoteCandidate(candidate));
      const answering = call.peer.answer(offers[index]!);
      call.peer.close('user_hangup');
      return answering.catch((error: unknown) => error);
    });
    const outcomes = await Promise.all(answers);
    await Promise.all(calls.map((call) => call.peer.released));

    for (const outcome of outcomes) expect(outcome).toMatchObject({ code: 'closed' });
    for (const call of calls) expect(call.events.closed).toEqual(['user_hangup']);
  });

  it('closes cleanly from inside its own state callback while connecting', async () => {
    const call = pair({
      peer: {
        onState: (state) => {
          if (state === 'connecting') call.peer.close('closed_while_connecting');
        },
      },
    });

    await startCall(call).catch(() => undefined);
    await until(() => call.events.closed.length > 0, 'the close');
    await call.peer.released;

    expect(call.events.closed).toEqual(['closed_while_connecting']);
  });

  it('closes only the peer whose onRtp throws, with transport_error', async () => {
    const failing = pair({
      peer: {
        onRtp: () => {
          throw new Error('agent exploded');
        },
      },
    });
    const healthy = pair();
    await Promise.all([startCall(failing), startCall(healthy)]);
    await Promise.all([untilMediaFlows(failing), untilMediaFlows(healthy)]);

    const rtp = (call: CallPair, n: number): Buffer =>
      buildRtp(call.caller.payloadType, n, n * 960, call.caller.ssrc, Buffer.from([n]));
    failing.caller.send(rtp(failing, 1));
    healthy.caller.send(rtp(healthy, 1));
    await until(() => failing.events.closed.length > 0, 'the failing peer to close');
    healthy.caller.send(rtp(healthy, 2));
    await until(() => healthy.events.rtp.length >= 2, 'the healthy peer to keep receiving');

    expect(failing.events.closed).toEqual(['transport_error']);
    expect(failing.events.errors).toHaveLength(1);
    expect(failing.events.errors[0]).toMatchObject({ code: 'callback_failed' });
    expect(failing.events.errors[0]?.message).toMatch(/onRtp threw: agent exploded/);
    expect(failing.peer.mediaOpen).toBe(false);
    await failing.peer.released;
    expect(healthy.peer.state).toBe('connected');
    expect(healthy.events.closed).toEqual([]);
    expect(healthy.events.rtp.map(rtpSequence)).toEqual([1, 2]);
  });

  it('survives a rejecting async callback the same way', async () => {
    const call = pair({
      peer: {
        onMediaOpen: async () => {
          await Promise.resolve();
          throw new Error('async failure');
        },
      },
    });
    await startCall(call);

    await until(() => call.events.closed.length > 0, 'the close');

    expect(call.events.closed).toEqual(['transport_error']);
    expect(call.events.errors[0]?.message).toMatch(/onMediaOpen threw: async failure/);
  });

  it('reports throws from state and close callbacks raised in native code, then closes', async () => {
    const call = pair({
      peer: {
        onState: (state) => {
          if (state === 'connecting') throw new Error('state handler broke');
        },
        onClosed: () => {
          throw new Error('close handler broke');
        },
      },
    });

    await startCall(call).catch(() => undefined);
    await until(() => call.peer.closeReason !== undefined, 'the close');
    await call.peer.released;

    expect(call.peer.closeReason).toBe('transport_error');
    expect(call.events.errors.map((error) => error.message)).toEqual([
      expect.stringMatching(/onState threw: state handler broke/),
      expect.stringMatching(/onClosed threw: close handler broke/),
    ]);
  });

  it('leaves no native connection held once every peer is released', async () => {
    const call = pair();
    await startCall(call);
    await untilMediaFlows(call);

    closePair(call);
    await call.peer.released;
    pairs.splice(0);

    expect(liveNativePeerCount()).toBe(0);
  });
});
