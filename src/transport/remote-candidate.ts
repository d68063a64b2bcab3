import { isIP } from 'node:net';

import { TransportError, describeValue } from './transport-error.js';

/** The longest candidate line accepted; real ones are well under 300 characters. */
export const MAX_CANDIDATE_LENGTH = 1_024;

/** RFC 8839 candidate-attribute, up to the candidate type; extensions may follow. */
const CANDIDATE_LINE =
  /^(?:a=)?candidate:(\S{1,32}) (\d{1,3}) (\S+) (\d{1,10}) (\S+) (\d{1,5}) typ (\S+)(?: .*)?$/i;

/** A remote candidate as it arrives from the far end (an `m.call.candidates` entry). */
export interface RemoteCandidateInput {
  candidate?: unknown;
  sdpMid?: unknown;
  sdpMLineIndex?: unknown;
}

/** A remote candidate that passed validation. */
export interface RemoteCandidate {
  /** The candidate line, without a leading `a=`. */
  candidate: string;
  /** The connection address: an IP literal or a host name (such as an mDNS `.local` name). */
  address: string;
  sdpMid: string | undefined;
  sdpMLineIndex: number | undefined;
}

/**
 * Validates a remote candidate from the far end. Returns 'end_of_candidates' for an empty
 * candidate string (which must never reach ICE) and throws a TransportError with code
 * `invalid_candidate`, naming the field and the value, for anything malformed.
 */
export function parseRemoteCandidate(input: unknown): RemoteCandidate | 'end_of_candidates' {
  if (typeof input !== 'object' || input === null) {
    fail(`candidate must be an object, got ${describeValue(input)}`);
  }
  const { candidate, sdpMid, sdpMLineIndex } = input as RemoteCandidateInput;

  if (typeof candidate !== 'string') {
    fail(`candidate.candidate must be a string, got ${describeValue(candidate)}`);
  }
  if (candidate.length > MAX_CANDIDATE_LENGTH) {
    fail(
      `candidate.candidate is ${candidate.length} characters; the limit is ${MAX_CANDIDATE_LENGTH}`,
    );
  }
  if (/[\r\n\0]/.test(candidate)) {
    fail(`candidate.candidate must be one line, got ${describeValue(candidate)}`);
  }
  if (
    sdpMid !== undefined &&
    sdpMid !== null &&
    (typeof sdpMid !== 'string' || sdpMid.length > 64)
  ) {
    fail(
      `candidate.sdpMid must be a string of at most 64 characters, got ${describeValue(sdpMid)}`,
    );
  }
  if (
    sdpMLineIndex !== undefined &&
    sdpMLineIndex !== null &&
    !(Number.isInteger(sdpMLineIndex) && (sdpMLineIndex as number) >= 0)
  ) {
    fail(`candidate.sdpMLineIndex must be a whole number, got ${describeValue(sdpMLineIndex)}`);
  }

  const line = candidate.trim();
  if (line === '') return 'end_of_candidates';

  const match = CANDIDATE_LINE.exec(line);
  if (match === null) {
    fail(`candidate.candidate is not an ICE candidate line, got ${describeValue(candidate)}`);
  }
  return {
    candidate: line.startsWith('a=') ? line.slice(2) : line,
    address: match[5] ?? '',
    sdpMid: typeof sdpMid === 'string' ? sdpMid : undefined,
    sdpMLineIndex: typeof sdpMLineIndex === 'number' ? sdpMLineIndex : undefined,
  };
}

/**
 * True when the candidate's address is an IP literal. Anything else would make the library
 * resolve a name the far end chose, which is traffic the bridge never meant to send.
 */
export function hasIpAddress(candidate: RemoteCandidate): boolean {
  return isIP(candidate.address) !== 0;
}

function fail(message: string): never {
  throw new TransportError('invalid_candidate', message);
}
