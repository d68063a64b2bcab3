import { describe, expect, it } from 'vitest';

import { MAX_OFFER_BYTES, parseAudioOffer } from '../../src/transport/offer-sdp.js';
import { TransportError } from '../../src/transport/transport-error.js';
import { AUDIO, AUDIO_OFFER, SESSION, VIDEO, sdp } from './fixtures/offers.js';

/** The invalid_sdp message parseAudioOffer throws for `offer`. */
function refusal(offer: unknown): string {
  try {
    parseAudioOffer(offer);
  } catch (error) {
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ code: 'invalid_sdp' });
    return (error as Error).message;
  }
  throw new Error('the offer was accepted');
}

const withAudio = (edit: (lines: string[]) => string[]): string =>
  sdp([...SESSION.map((l) => l.replace('BUNDLE 0 1', 'BUNDLE 0')), ...edit([...AUDIO])]);

describe('parseAudioOffer', () => {
  it('reads the audio mid, the Opus payload type, its clock rate and channels', () => {
    expect(parseAudioOffer(AUDIO_OFFER)).toEqual({
      mid: '0',
      mLineIndex: 0,
      payloadType: 111,
      clockRate: 48_000,
      channels: 2,
      direction: 'sendrecv',
      remoteSsrcs: [1001],
      bundleMids: ['0'],
    });
  });

  it('finds the audio m-line behind a video one and keeps the BUNDLE group', () => {
    const offer = sdp([...SESSION, ...VIDEO, ...AUDIO]);

    expect(parseAudioOffer(offer)).toMatchObject({
      mid: '0',
      mLineIndex: 1,
      bundleMids: ['0', '1'],
    });
  });

  it('accepts LF line endings, an upper-case codec name and session-level ICE attributes', () => {
    const ice = AUDIO.filter((l) => /^a=(ice-|fingerprint)/.test(l));
    const offer = [
      ...SESSION,
      ...ice,
      ...AUDIO.filter((l) => !ice.includes(l)).map((l) => l.replace('opus/', 'OPUS/')),
    ].join('\n');

    expect(parseAudioOffer(offer)).toMatchObject({ payloadType: 111, mid: '0' });
  });

  it('reads a sendonly direction', () => {
    const offer = withAudio((lines) => lines.map((l) => (l === 'a=sendrecv' ? 'a=sendonly' : l)));

    expect(parseAudioOffer(offer).direction).toBe('sendonly');
  });

  it('refuses what is not a string', () => {
    expect(refusal(42)).toBe('offer sdp must be a string, got 42');
    expect(refusal({ sdp: AUDIO_OFFER })).toBe('offer sdp must be a string, got an object');
  });

  it('refuses an offer over 64 KiB', () => {
    const padding = Array.from({ length: 4_000 }, (_, i) => `a=x-padding:${i}`.padEnd(20, '.'));

    expect(refusal(withAudio((lines) => [...lines, ...padding]))).toMatch(
      new RegExp(`^offer sdp is \\d+ bytes; the limit is ${MAX_OFFER_BYTES}$`),
    );
  });

  it('refuses text that is not SDP', () => {
    expect(refusal('hello')).toBe('offer sdp must start with "v=0", got "hello"');
    expect(refusal('')).toBe('offer sdp must start with "v=0", got undefined');
  });

  it('refuses an offer without an audio m-line', () => {
    expect(refusal(sdp([...SESSION, ...VIDEO]))).toBe('offer has no audio m-line');
  });

  it('refuses an offer whose only audio m-line is disabled', () => {
    expect(
      refusal(withAudio((lines) => [lines[0]!.replace('audio 9', 'audio 0'), ...lines.slice(1)])),
    ).toBe('audio m-line is disabled (port 0)');
  });

  it('refuses plain RTP', () => {
    const offer = withAudio((lines) => [
      lines[0]!.replace('UDP/TLS/RTP/SAVPF', 'RTP/AVP'),
      ...lines.slice(1),
    ]);

    expect(refusal(offer)).toBe(
      'audio m-line protocol must be secure RTP (UDP/TLS/RTP/SAVPF), got "RTP/AVP"',
    );
  });

  it('refuses an audio m-line without a mid', () => {
    expect(refusal(withAudio((lines) => lines.filter((l) => !l.startsWith('a=mid:'))))).toBe(
      'audio m-line has no a=mid',
    );
  });

  it('refuses an audio m-line without Opus', () => {
    const offer = withAudio((lines) => lines.filter((l) => !l.startsWith('a=rtpmap:111')));

    expect(refusal(offer)).toBe('audio m-line has no Opus rtpmap (a=rtpmap:<pt> opus/48000/2)');
  });

  it('refuses an Opus payload type the m-line does not list', () => {
    const offer = withAudio((lines) => [lines[0]!.replace(' 111 ', ' '), ...lines.slice(1)]);

    expect(refusal(offer)).toBe('Opus payload type 111 is not listed on the audio m-line');
  });

  it('refuses an Opus clock rate or channel count other than RFC 7587 requires', () => {
    const rate = withAudio((lines) => lines.map((l) => l.replace('opus/48000/2', 'opus/16000/2')));
    const mono = withAudio((lines) => lines.map((l) => l.replace('opus/48000/2', 'opus/48000')));

    expect(refusal(rate)).toBe('Opus clock rate must be 48000 (RFC 7587), got 16000');
    expect(refusal(mono)).toBe('Opus channels must be 2 (RFC 7587), got 1');
  });

  it('refuses an offer without ICE credentials or a DTLS fingerprint', () => {
    const without = (prefix: string): string =>
      withAudio((lines) => lines.filter((l) => !l.startsWith(prefix)));

    expect(refusal(without('a=ice-ufrag:'))).toBe('offer has no a=ice-ufrag');
    expect(refusal(without('a=ice-pwd:'))).toBe('offer has no a=ice-pwd');
    expect(refusal(without('a=fingerprint:'))).toBe(
      'offer has no a=fingerprint (DTLS-SRTP is required)',
    );
  });

  it('refuses a mid that is not an SDP token and a NUL byte', () => {
    const badMid = withAudio((lines) => lines.map((l) => (l === 'a=mid:0' ? 'a=mid:a b"' : l)));

    expect(refusal(badMid)).toBe('audio a=mid must be a token, got "a b\\""');
    expect(refusal(`${AUDIO_OFFER}a=x:\0\r\n`)).toBe('offer sdp contains a NUL character');
  });
});
