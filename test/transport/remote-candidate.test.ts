import { describe, expect, it } from 'vitest';

import { hasIpAddress, parseRemoteCandidate } from '../../src/transport/remote-candidate.js';

const HOST =
  'candidate:842163049 1 udp 1677729535 192.0.2.10 46154 typ srflx raddr 0.0.0.0 rport 0 generation 0';

function refusal(input: unknown): string {
  try {
    parseRemoteCandidate(input);
  } catch (error) {
    expect(error).toMatchObject({ name: 'TransportError', code: 'invalid_candidate' });
    return (error as Error).message;
  }
  throw new Error('the candidate was accepted');
}

describe('parseRemoteCandidate', () => {
  it('reads a browser candidate with its mid and m-line index', () => {
    expect(parseRemoteCandidate({ candidate: HOST, sdpMid: '0', sdpMLineIndex: 0 })).toEqual({
      candidate: HOST,
      address: '192.0.2.10',
      sdpMid: '0',
      sdpMLineIndex: 0,
    });
  });

  it('strips the a= prefix the library itself uses', () => {
    const parsed = parseRemoteCandidate({ candidate: `a=${HOST}` });

    expect(parsed).toMatchObject({ candidate: HOST, sdpMid: undefined, sdpMLineIndex: undefined });
  });

  it('treats an empty candidate as end-of-candidates', () => {
    expect(parseRemoteCandidate({ candidate: '', sdpMid: '0' })).toBe('end_of_candidates');
    expect(parseRemoteCandidate({ candidate: '  ', sdpMid: null })).toBe('end_of_candidates');
  });

  it('tells IP literals from host names', () => {
    const ipv6 = parseRemoteCandidate({
      candidate: 'candidate:1 1 UDP 2122262783 ::1 50000 typ host',
    });
    const mdns = parseRemoteCandidate({
      candidate:
        'candidate:1 1 UDP 2122262783 0f1e2d3c-aaaa-bbbb-cccc-000000000000.local 50000 typ host',
    });

    expect(ipv6 !== 'end_of_candidates' && hasIpAddress(ipv6)).toBe(true);
    expect(mdns !== 'end_of_candidates' && hasIpAddress(mdns)).toBe(false);
  });

  it('refuses input that is not a candidate object, naming the field and value', () => {
    expect(refusal(null)).toBe('candidate must be an object, got null');
    expect(refusal({ candidate: 7 })).toBe('candidate.candidate must be a string, got 7');
    expect(refusal({ candidate: HOST, sdpMid: 3 })).toBe(
      'candidate.sdpMid must be a string of at most 64 characters, got 3',
    );
    expect(refusal({ candidate: HOST, sdpMLineIndex: -1 })).toBe(
      'candidate.sdpMLineIndex must be a whole number, got -1',
    );
  });

  it('refuses multi-line, oversized and malformed candidate lines', () => {
    expect(refusal({ candidate: `${HOST}\r\na=fingerprint:x` })).toMatch(
      /^candidate\.candidate must be one line, got /,
    );
    expect(refusal({ candidate: `${HOST} ${'x'.repeat(1_100)}` })).toMatch(
      /^candidate\.candidate is \d+ characters; the limit is 1024$/,
    );
    expect(refusal({ candidate: 'candidate:nonsense' })).toBe(
      'candidate.candidate is not an ICE candidate line, got "candidate:nonsense"',
    );
  });
});
