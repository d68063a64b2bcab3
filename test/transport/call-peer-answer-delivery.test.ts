import { beforeAll, describe, expect, it } from 'vitest';

import { CallPeer } from '../../src/transport/index.js';
import { assertLoopbackOnly } from './fixtures/loopback-only.js';
import { TestCaller } from './fixtures/test-caller.js';
import { until } from './fixtures/wait.js';

beforeAll(() => assertLoopbackOnly());

describe('call peer waiting for the answer to be delivered', () => {
  it('holds the caller candidates until told the answer is out, then connects', async () => {
    const caller = new TestCaller('caller-wait', { payloadType: 111 });
    let connected = false;
    const peer = new CallPeer({
      callId: 'wait-for-answer',
      waitForAnswerDelivery: true,
      onLocalCandidates: (batch) => caller.addRemoteCandidates(batch),
      onRtp: () => {},
      onState: (state) => {
        if (state === 'connected') connected = true;
      },
      onClosed: () => {},
    });
    try {
      const { sdp } = await peer.answer(await caller.offer);
      await until(() => caller.gatheringComplete, 'caller candidates');
      const outcomes = caller.localCandidates.map((c) =>
        peer.addRemoteCandidate({ candidate: c.candidate, sdpMid: c.sdpMid }),
      );
      expect(outcomes.every((o) => o === 'queued')).toBe(true);

      caller.acceptAnswer(sdp);
      peer.answerDelivered();
      await until(() => connected && caller.trackOpen, 'the connection');
    } finally {
      peer.close('caller_hangup');
      caller.close();
    }
  });
});
