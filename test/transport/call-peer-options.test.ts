import { describe, expect, it } from 'vitest';

import {
  resolveCallPeerOptions,
  type CallPeerOptions,
} from '../../src/transport/call-peer-options.js';

const base: CallPeerOptions = {
  callId: '1700000000000abc',
  onLocalCandidates: () => undefined,
  onRtp: () => undefined,
  onClosed: () => undefined,
};

function refusal(options: Record<string, unknown>): string {
  try {
    resolveCallPeerOptions({ ...base, ...options });
  } catch (error) {
    expect(error).toMatchObject({ name: 'TransportError', code: 'invalid_option' });
    return (error as Error).message;
  }
  throw new Error('the options were accepted');
}

describe('resolveCallPeerOptions', () => {
  it('binds to loopback, asks no ICE server and batches for 100 ms by default', () => {
    expect(resolveCallPeerOptions(base)).toMatchObject({
      callId: base.callId,
      bindAddress: '127.0.0.1',
      iceServers: [],
      candidateBatchMs: 100,
      portRangeBegin: undefined,
      portRangeEnd: undefined,
    });
  });

  it('keeps valid settings', () => {
    const resolved = resolveCallPeerOptions({
      ...base,
      bindAddress: '::1',
      portRangeBegin: 40_000,
      portRangeEnd: 40_100,
      iceServers: ['stun:stun.internal.example:3478', 'turns:turn.internal.example:5349'],
      candidateBatchMs: 0,
    });

    expect(resolved).toMatchObject({
      bindAddress: '::1',
      portRangeBegin: 40_000,
      candidateBatchMs: 0,
    });
    expect(resolved.iceServers).toHaveLength(2);
  });

  it('refuses bad values, naming the option and the value', () => {
    expect(refusal({ callId: '' })).toBe(
      'callId must be a non-empty single-line string of at most 255 characters, got ""',
    );
    expect(refusal({ callId: 'a\nb' })).toMatch(/^callId must be/);
    expect(refusal({ bindAddress: 'localhost' })).toBe(
      'bindAddress must be an IP address, got "localhost"',
    );
    expect(refusal({ portRangeBegin: 70_000 })).toBe(
      'portRangeBegin must be a whole number from 1 to 65535, got 70000',
    );
    expect(refusal({ portRangeBegin: 50_000, portRangeEnd: 40_000 })).toBe(
      'portRangeBegin (50000) must not be above portRangeEnd (40000)',
    );
    expect(refusal({ iceServers: ['http://stun.example'] })).toBe(
      'iceServers[0] must be a stun:, turn: or turns: URL, got "http://stun.example"',
    );
    expect(refusal({ candidateBatchMs: 1.5 })).toBe(
      'candidateBatchMs must be a whole number from 0 to 10000, got 1.5',
    );
    expect(refusal({ onRtp: 'nope' })).toBe('onRtp must be a function, got "nope"');
    expect(refusal({ onError: 5 })).toBe('onError must be a function, got 5');
  });
});
