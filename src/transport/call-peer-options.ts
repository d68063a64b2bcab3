import { isIP } from 'node:net';

import type { LocalCandidate } from './candidate-batcher.js';
import type { CallPeerState } from './call-peer-state.js';
import { TransportError, describeValue } from './transport-error.js';

/**
 * Options of one CallPeer. Callbacks may be async: a throw or a rejection closes the peer with
 * `transport_error` and goes to `onError`.
 */
export interface CallPeerOptions {
  /** The Matrix call id; also names the connection in the library's logs. */
  callId: string;
  /** The local address ICE binds to. Default '127.0.0.1'. */
  bindAddress?: string;
  /** Lowest local UDP port ICE may use (inclusive). Default: the library's (1024). */
  portRangeBegin?: number;
  /** Highest local UDP port ICE may use (inclusive). Default: the library's (65535). */
  portRangeEnd?: number;
  /** STUN or TURN URLs. Default none: the bridge asks no outside server for anything. */
  iceServers?: string[];
  /** How long local candidates collect before a batch goes out, in ms. Default 100. */
  candidateBatchMs?: number;
  /**
   * Hold the caller's candidates until `answerDelivered()` is called, so ICE starts only once
   * the answer is on its way. Default false: candidates are used as soon as the offer is set.
   */
  waitForAnswerDelivery?: boolean;
  /** Receives local candidates in batches; the last batch ends with an empty candidate. */
  onLocalCandidates: (batch: LocalCandidate[]) => unknown;
  /** Receives every Opus RTP packet from the far end (decrypted, header included). */
  onRtp: (packet: Buffer) => unknown;
  /** Receives connection state changes. */
  onState?: (state: CallPeerState) => unknown;
  /** Called once when the audio track opens, from when `sendRtp` can succeed. */
  onMediaOpen?: () => unknown;
  /** Called exactly once, when the peer closes for any reason. */
  onClosed: (reason: string) => unknown;
  /** Receives what went wrong before the peer closes itself with `transport_error`. */
  onError?: (error: TransportError) => void;
}

/** CallPeer options with every default filled in. */
export interface ResolvedCallPeerOptions
  extends Required<
    Omit<
      CallPeerOptions,
      | 'portRangeBegin'
      | 'portRangeEnd'
      | 'onState'
      | 'onMediaOpen'
      | 'onError'
      | 'waitForAnswerDelivery'
    >
  > {
  portRangeBegin: number | undefined;
  portRangeEnd: number | undefined;
  onState: CallPeerOptions['onState'];
  onMediaOpen: CallPeerOptions['onMediaOpen'];
  onError: CallPeerOptions['onError'];
}

/** The longest batching interval accepted, in ms: longer ones only delay the call. */
const MAX_BATCH_MS = 10_000;

/**
 * Checks CallPeer options and fills in defaults. Throws a TransportError with code
 * `invalid_option` naming the option and the value.
 */
export function resolveCallPeerOptions(options: CallPeerOptions): ResolvedCallPeerOptions {
  if (typeof options !== 'object' || options === null) {
    fail(`options must be an object, got ${describeValue(options)}`);
  }
  const { callId, bindAddress = '127.0.0.1', portRangeBegin, portRangeEnd } = options;
  const { iceServers = [], candidateBatchMs = 100 } = options;

  if (
    typeof callId !== 'string' ||
    callId === '' ||
    callId.length > 255 ||
    /\p{Cc}/u.test(callId)
  ) {
    fail(
      `callId must be a non-empty single-line string of at most 255 characters, got ${describeValue(callId)}`,
    );
  }
  if (typeof bindAddress !== 'string' || isIP(bindAddress) === 0) {
    fail(`bindAddress must be an IP address, got ${describeValue(bindAddress)}`);
  }
  checkPort('portRangeBegin', portRangeBegin);
  checkPort('portRangeEnd', portRangeEnd);
  if (portRangeBegin !== undefined && portRangeEnd !== undefined && portRangeBegin > portRangeEnd) {
    fail(`portRangeBegin (${portRangeBegin}) must not be above portRangeEnd (${portRangeEnd})`);
  }
  if (!Array.isArray(iceServers)) {
    fail(`iceServers must be an array of STUN or TURN URLs, got ${describeValue(iceServers)}`);
  }
  for (const [index, url] of iceServers.entries()) {
    if (typeof url !== 'string' || !/^(stun|turns?):[^\s]{1,500}$/.test(url)) {
      fail(`iceServers[${index}] must be a stun:, turn: or turns: URL, got ${describeValue(url)}`);
    }
  }
  if (
    !Number.isInteger(candidateBatchMs) ||
    candidateBatchMs < 0 ||
    candidateBatchMs > MAX_BATCH_MS
  ) {
    fail(
      `candidateBatchMs must be a whole number from 0 to ${MAX_BATCH_MS}, got ${describeValue(candidateBatchMs)}`,
    );
  }
  checkCallback('onLocalCandidates', options.onLocalCandidates, true);
  checkCallback('onRtp', options.onRtp, true);
  checkCallback('onClosed', options.onClosed, true);
  checkCallback('onState', options.onState, false);
  checkCallback('onMediaOpen', options.onMediaOpen, false);
  checkCallback('onError', options.onError, false);

  return {
    callId,
    bindAddress,
    portRangeBegin,
    portRangeEnd,
    iceServers: [...iceServers],
    candidateBatchMs,
    onLocalCandidates: options.onLocalCandidates,
    onRtp: options.onRtp,
    onState: options.onState,
    onMediaOpen: options.onMediaOpen,
    onClosed: options.onClosed,
    onError: options.onError,
  };
}

function checkPort(name: string, value: unknown): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 65_535) {
    fail(`${name} must be a whole number from 1 to 65535, got ${describeValue(value)}`);
  }
}

function checkCallback(name: string, value: unknown, required: boolean): void {
  if (value === undefined && !required) return;
  if (typeof value !== 'function') fail(`${name} must be a function, got ${describeValue(value)}`);
}

function fail(message: string): never {
  throw new TransportError('invalid_option', message);
}
