import { describe, expect, it } from 'vitest';

import {
  AudioCore,
  PacketRing,
  RegionAllocator,
  createAudioMemory,
} from '../../../src/engine/audio-core.js';
import { SlotTable } from '../../../src/engine/slot-table.js';
import { createEchoAgent } from '../../../workers/agents/echo-agent.js';
import { MediaCall } from '../../../workers/media/media-call.js';

describe('media call', () => {
  it('gives its jitter buffer and meter back at close, so a worker can host calls forever', async () => {
    const shared = await AudioCore.load(createAudioMemory());
    const sharedAllocator = RegionAllocator.forCore(shared);
    const local = AudioCore.instantiate(createAudioMemory(), shared.module);
    const allocator = RegionAllocator.forCore(local);
    const slots = SlotTable.create(1);
    const inbound = PacketRing.create(shared, sharedAllocator);
    const outbound = PacketRing.create(shared, sharedAllocator);
    const events = { onUsage: () => {}, onHangup: () => {}, onError: () => {} };

    for (let n = 0; n < 200; n++) {
      const call = new MediaCall(
        {
          callId: `c${n}`,
          roomId: '!r:example.org',
          userId: '@u:example.org',
          slot: { index: 0, generation: 1 },
          inboundRing: inbound.ptr,
          outboundRing: outbound.ptr,
          payloadType: 111,
          ssrc: 1,
        },
        shared,
        local,
        allocator,
        slots,
        createEchoAgent({ delayMs: 0, tokensPerSecond: 0 })(
          { callId: `c${n}`, roomId: '!r:example.org', userId: '@u:example.org' },
          events,
        ),
      );
      call.close('caller_hangup');
    }
    expect(allocator.liveRegions).toBe(0);
    expect(local.pages).toBeLessThan(64);
  });
});
