import { TransportError, describeValue } from './transport-error.js';

/** The largest offer accepted, in bytes: a Matrix event cannot carry more. */
export const MAX_OFFER_BYTES = 65_536;

/** RFC 7587: Opus is always signalled as 48000 Hz, 2 channels, whatever it carries. */
const OPUS_CLOCK_RATE = 48_000;
const OPUS_CHANNELS = 2;

/** RFC 5888 identification-tag: an SDP token. */
const MID_TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]{1,64}$/;

/** The media direction an m-line asks for. */
export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** What the answer needs from a remote offer's audio m-line. */
export interface AudioOffer {
  /** The audio m-line's `a=mid`. */
  mid: string;
  /** The audio m-line's position among all m-lines, from 0. */
  mLineIndex: number;
  /** The payload type the offer gives Opus. */
  payloadType: number;
  /** Always 48000 (RFC 7587). */
  clockRate: number;
  /** Always 2 (RFC 7587). */
  channels: number;
  /** The direction the offer asks for on the audio m-line. */
  direction: MediaDirection;
  /** SSRCs the caller announced for its audio, so ours never collides. */
  remoteSsrcs: number[];
  /** The mids of the offer's BUNDLE group (empty when it has none). */
  bundleMids: string[];
}

/** One m-line and the attribute lines under it. */
interface MediaSection {
  media: string;
  port: number;
  proto: string;
  formats: string[];
  attributes: string[];
}

/**
 * Checks a remote SDP offer and extracts its audio m-line: mid, Opus payload type, clock
 * rate and channels. Throws a TransportError with code `invalid_sdp` that names what is
 * missing or wrong.
 */
export function parseAudioOffer(sdp: unknown): AudioOffer {
  if (typeof sdp !== 'string') {
    fail(`offer sdp must be a string, got ${describeValue(sdp)}`);
  }
  const bytes = Buffer.byteLength(sdp, 'utf8');
  if (bytes > MAX_OFFER_BYTES) {
    fail(`offer sdp is ${bytes} bytes; the limit is ${MAX_OFFER_BYTES}`);
  }
  if (sdp.includes('\0')) fail('offer sdp contains a NUL character');

  const lines = sdp.split(/\r?\n/).filter((line) => line !== '');
  if (lines[0] !== 'v=0') fail(`offer sdp must start with "v=0", got ${describeValue(lines[0])}`);

  const { session, sections } = splitSections(lines);
  const audioIndex = sections.findIndex((s) => s.media === 'audio' && s.port !== 0);
  const audio = sections[audioIndex];
  if (audio === undefined) {
    fail(
      sections.some((s) => s.media === 'audio')
        ? 'audio m-line is disabled (port 0)'
        : 'offer has no audio m-line',
    );
  }
  if (!audio.proto.includes('RTP/SAVP')) {
    fail(
      `audio m-line protocol must be secure RTP (UDP/TLS/RTP/SAVPF), got ${describeValue(audio.proto)}`,
    );
  }

  const mid = attributeValue(audio.attributes, 'mid');
  if (mid === undefined) fail('audio m-line has no a=mid');
  if (!MID_TOKEN.test(mid)) fail(`audio a=mid must be a token, got ${describeValue(mid)}`);

  requireAttribute(audio.attributes, session, 'ice-ufrag', 'offer has no a=ice-ufrag');
  requireAttribute(audio.attributes, session, 'ice-pwd', 'offer has no a=ice-pwd');
  requireAttribute(
    audio.attributes,
    session,
    'fingerprint',
    'offer has no a=fingerprint (DTLS-SRTP is required)',
  );

  const opus = findOpus(audio);
  const bundle = attributeValue(session, 'group');
  return {
    mid,
    mLineIndex: audioIndex,
    ...opus,
    direction: findDirection(audio.attributes) ?? findDirection(session) ?? 'sendrecv',
    remoteSsrcs: findSsrcs(audio.attributes),
    bundleMids: bundle?.startsWith('BUNDLE ') ? bundle.slice(7).split(' ').filter(Boolean) : [],
  };
}

function fail(message: string): never {
  throw new TransportError('invalid_sdp', message);
}

/** Splits SDP lines into the session-level attributes and one section per m-line. */
function splitSections(lines: string[]): { session: string[]; sections: MediaSection[] } {
  const session: string[] = [];
  const sections: MediaSection[] = [];
  for (const line of lines) {
    if (line.startsWith('m=')) {
      const [media = '', port = '', proto = '', ...formats] = line.slice(2).trim().split(/\s+/);
      const portNumber = Number(port.split('/')[0]);
      if (!Number.isInteger(portNumber) || portNumber < 0 || portNumber > 65_535) {
        fail(`m-line port must be 0 to 65535, got ${describeValue(line)}`);
      }
      sections.push({ media, port: portNumber, proto, formats, attributes: [] });
    } else if (line.startsWith('a=')) {
      (sections.at(-1)?.attributes ?? session).push(line.slice(2));
    }
  }
  return { session, sections };
}

/** The value of the first `a=name:value` (or '' for a bare `a=name`), if present. */
function attributeValue(attributes: string[], name: string): string | undefined {
  for (const attribute of attributes) {
    if (attribute === name) return '';
    if (attribute.startsWith(`${name}:`)) return attribute.slice(name.length + 1).trim();
  }
  return undefined;
}

/** Fails unless the attribute has a value at media or session level. */
function requireAttribute(media: string[], session: string[], name: string, message: string): void {
  const value = attributeValue(media, name) ?? attributeValue(session, name);
  if (value === undefined || value === '') fail(message);
}

function findOpus(audio: MediaSection): Pick<AudioOffer, 'payloadType' | 'clockRate' | 'channels'> {
  for (const attribute of audio.attributes) {
    const match = /^rtpmap:(\d{1,3})\s+opus\/(\d+)(?:\/(\d+))?\s*$/i.exec(attribute);
    if (match === null) continue;

    const payloadType = Number(match[1]);
    if (payloadType > 127) fail(`Opus payload type must be 0 to 127, got ${payloadType}`);
    if (!audio.formats.includes(String(payloadType))) {
      fail(`Opus payload type ${payloadType} is not listed on the audio m-line`);
    }
    const clockRate = Number(match[2]);
    if (clockRate !== OPUS_CLOCK_RATE) {
      fail(`Opus clock rate must be ${OPUS_CLOCK_RATE} (RFC 7587), got ${clockRate}`);
    }
    const channels = match[3] === undefined ? 1 : Number(match[3]);
    if (channels !== OPUS_CHANNELS) {
      fail(`Opus channels must be ${OPUS_CHANNELS} (RFC 7587), got ${channels}`);
    }
    return { payloadType, clockRate, channels };
  }
  return fail('audio m-line has no Opus rtpmap (a=rtpmap:<pt> opus/48000/2)');
}

function findDirection(attributes: string[]): MediaDirection | undefined {
  for (const attribute of attributes) {
    if (
      attribute === 'sendrecv' ||
      attribute === 'sendonly' ||
      attribute === 'recvonly' ||
      attribute === 'inactive'
    ) {
      return attribute;
    }
  }
  return undefined;
}

function findSsrcs(attributes: string[]): number[] {
  const ssrcs = new Set<number>();
  for (const attribute of attributes) {
    const match = /^ssrc:(\d{1,10})\s/.exec(attribute);
    if (match !== null) ssrcs.add(Number(match[1]));
  }
  return [...ssrcs];
}
