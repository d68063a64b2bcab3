import WebSocket, { type RawData } from 'ws';

import {
  FRAME_SAMPLES,
  type Agent,
  type AgentContext,
  type AgentErrorCode,
  type AgentEvents,
} from './agent.js';
import { parseAgentMessage } from './agent-message.js';
import {
  AUDIO_MESSAGE_BYTES,
  MAX_MESSAGE_BYTES,
  decodeAudio,
  encodeAudio,
  encodeControl,
  startMessage,
} from './agent-protocol.js';
import { FrameQueue } from './frame-queue.js';
import {
  resolveWebSocketAgentOptions,
  type ResolvedWebSocketAgentOptions,
  type WebSocketAgentOptions,
} from './websocket-agent-options.js';
import type { WebSocketAgentState, WebSocketAgentStats } from './websocket-agent-stats.js';

/**
 * Unsent bytes beyond which the caller's frames are dropped instead of queued: one second of
 * audio. An agent that reads slower than real time loses audio rather than growing memory.
 */
const MAX_BUFFERED_BYTES = 50 * AUDIO_MESSAGE_BYTES;

/** The bridge ended the call. */
const CLOSE_NORMAL = 1000;
/** The agent broke the protocol. */
const CLOSE_PROTOCOL_ERROR = 1002;

/** Makes the WebSocket agent of one call; the agent it returns also has `stats()`. */
export type WebSocketAgentFactory = (context: AgentContext, events: AgentEvents) => WebSocketAgent;

/**
 * The factory of agents that live in an outside service reached over WebSocket, one connection
 * per call (see docs/agent-protocol.md). Checks the options now, and reads `caFile` now, so a
 * bad setting fails at start-up rather than on the first call. Throws AgentOptionError.
 */
export function createWebSocketAgent(options: WebSocketAgentOptions): WebSocketAgentFactory {
  const resolved = resolveWebSocketAgentOptions(options);
  return (context, events) => new WebSocketAgent(context, events, resolved);
}

/**
 * One call's agent over a WebSocket. `hear`, `speak` and `close` never throw and never wait:
 * the caller's frames go out as they come (or are dropped and counted while the socket cannot
 * take them), and the agent's frames wait in a bounded queue for `speak`. The first failure
 * is reported once through `onError` and closes the socket; after that, or after `close`, no
 * event fires.
 */
/** WebSocket connections of this thread's agents that have not closed yet. */
let openSockets = 0;

/** This thread's agent sockets not yet closed, for the worker's memory and leak reports. */
export function openAgentSockets(): number {
  return openSockets;
}

export class WebSocketAgent implements Agent {
  /** The call this agent serves. */
  readonly #context: AgentContext;
  /** Where usage, hangups and errors go. */
  readonly #events: AgentEvents;
  /** The checked settings shared by every call of the factory. */
  readonly #options: ResolvedWebSocketAgentOptions;
  /** The connection; undefined only if it could not even be created. */
  readonly #socket: WebSocket | undefined;
  /** The agent's frames waiting to be spoken. */
  readonly #queue: FrameQueue;
  /**
   * Fails the connection attempt if it takes longer than `connectTimeoutMs`.
   * Limitation: once open there is no keepalive; an agent host that vanishes without closing
   * is noticed only when TCP gives up, while the call goes on without the agent's voice.
   */
  #connectTimer: NodeJS.Timeout | undefined;
  /** Whether the connection ever opened: failures before that mean the agent is unreachable. */
  #opened = false;
  /** Whether the agent has hung up: its closing the socket afterwards is not a failure. */
  #hungUp = false;
  /** Set once the call is over for this agent (closed, failed, or gone after a hangup). */
  #done = false;
  /** Caller frames handed to the socket. */
  #sent = 0;
  /** Caller frames heard but not sent. */
  #notSent = 0;
  /** Agent frames received. */
  #received = 0;
  /** Event handlers that threw. */
  #callbackErrors = 0;

  constructor(context: AgentContext, events: AgentEvents, options: ResolvedWebSocketAgentOptions) {
    this.#context = context;
    this.#events = events;
    this.#options = options;
    this.#queue = new FrameQueue(options.maxQueuedFrames);

    let socket: WebSocket | undefined;
    try {
      socket = new WebSocket(options.url, {
        maxPayload: MAX_MESSAGE_BYTES,
        perMessageDeflate: false,
        followRedirects: false,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
      });
    } catch (error) {
      // The factory's caller has no agent to look at yet: report on the next turn.
      const message = `url ${this.#shownUrl} cannot be connected to: ${messageOf(error)}`;
      queueMicrotask(() => this.#fail('agent_unreachable', message));
    }
    this.#socket = socket;
    if (socket === undefined) return;

    openSockets += 1;
    socket.once('close', () => (openSockets -= 1));
    socket.on('open', () => this.#onOpen());
    socket.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    // Always listened to: an unheard 'error' would be thrown into the media worker.
    socket.on('error', (error) => this.#onSocketError(error));
    socket.on('close', (code, reason) => this.#onSocketClose(code, reason));

    this.#connectTimer = setTimeout(() => this.#onConnectTimeout(), options.connectTimeoutMs);
    this.#connectTimer.unref();
  }

  /**
   * Sends the caller's frame to the agent, or drops and counts it if the socket can't take it.
   * Every frame goes, voiced or not: the stream of frames is the agent's clock.
   */
  hear(frame: Int16Array, _voiced: boolean): void {
    const socket = this.#socket;
    if (this.#done || socket === undefined) return;
    if (
      socket.readyState !== WebSocket.OPEN ||
      frame.length !== FRAME_SAMPLES ||
      socket.bufferedAmount > MAX_BUFFERED_BYTES
    ) {
      this.#notSent += 1;
      return;
    }
    socket.send(encodeAudio(frame));
    this.#sent += 1;
  }

  /** The agent's oldest unplayed frame, valid until the next `speak`; undefined when none. */
  speak(): Int16Array | undefined {
    return this.#queue.shift();
  }

  /** Tells the agent the call ended with `reason` and closes the socket. Idempotent. */
  close(reason: string): void {
    this.#queue.clear();
    if (this.#done) return;
    this.#done = true;
    this.#stopConnectTimer();

    const socket = this.#socket;
    if (socket === undefined) return;
    if (socket.readyState === WebSocket.OPEN) {
      socket.send(encodeControl({ type: 'ended', reason }));
      socket.close(CLOSE_NORMAL);
    } else if (socket.readyState === WebSocket.CONNECTING) {
      socket.terminate();
    }
  }

  /** A snapshot of this agent's counters. */
  stats(): WebSocketAgentStats {
    return {
      state: this.#state(),
      toAgent: {
        sent: this.#sent,
        dropped: this.#notSent,
        bufferedBytes: this.#socket?.bufferedAmount ?? 0,
      },
      fromAgent: {
        received: this.#received,
        dropped: this.#queue.dropped,
        queued: this.#queue.length,
      },
      callbackErrors: this.#callbackErrors,
    };
  }

  get #shownUrl(): string {
    return JSON.stringify(this.#options.shownUrl);
  }

  #state(): WebSocketAgentState {
    switch (this.#socket?.readyState) {
      case WebSocket.CONNECTING:
        return 'connecting';
      case WebSocket.OPEN:
        return 'open';
      default:
        return 'closed';
    }
  }

  #onOpen(): void {
    this.#opened = true;
    this.#stopConnectTimer();
    if (this.#done) return;
    this.#socket?.send(encodeControl(startMessage(this.#context)));
  }

  // Limitation: nothing bounds how fast an agent may send. Memory stays bounded (the queue
  // drops), but a flooding agent spends its worker's CPU on parsing, which the worker's other
  // calls share. A per-tick read budget that pauses the socket would cap it.
  #onMessage(data: RawData, isBinary: boolean): void {
    if (this.#done) return;
    const bytes = toBuffer(data);
    if (!isBinary) {
      this.#fail('malformed_message', `message is text (${bytes.length} bytes), expected binary`);
      return;
    }

    const parsed = parseAgentMessage(bytes);
    switch (parsed.kind) {
      case 'audio':
        decodeAudio(parsed.message, this.#queue.push());
        this.#received += 1;
        return;
      case 'usage':
        this.#deliver(() => this.#events.onUsage(parsed.usage));
        return;
      case 'hangup':
        // A repeated hangup adds nothing: the call is already ending.
        if (this.#hungUp) return;
        this.#hungUp = true;
        this.#deliver(() => this.#events.onHangup(parsed.reason));
        return;
      case 'violation':
        this.#fail(parsed.code, parsed.message);
        return;
    }
  }

  #onSocketError(error: Error): void {
    if (this.#done) return;
    const code = (error as { code?: unknown }).code;

    if (!this.#opened) {
      this.#fail('agent_unreachable', `url ${this.#shownUrl} cannot be reached: ${error.message}`);
    } else if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      this.#fail(
        'oversized_message',
        `a message from the agent is longer than the limit of ${MAX_MESSAGE_BYTES} bytes`,
      );
    } else if (typeof code === 'string' && code.startsWith('WS_ERR_')) {
      this.#fail(
        'malformed_message',
        `the agent broke WebSocket framing (${code}): ${error.message}`,
      );
    } else {
      this.#fail('agent_disconnected', `connection to ${this.#shownUrl} failed: ${error.message}`);
    }
  }

  #onSocketClose(code: number, reason: Buffer): void {
    this.#stopConnectTimer();
    if (this.#done) return;

    if (!this.#opened) {
      this.#fail('agent_unreachable', `url ${this.#shownUrl} closed before opening (code ${code})`);
      return;
    }
    if (this.#hungUp) {
      // The agent hung up and left; what it already sent may still play out.
      this.#done = true;
      return;
    }
    const shownReason = reason.length > 0 ? `, reason ${JSON.stringify(reason.toString())}` : '';
    this.#fail(
      'agent_disconnected',
      `the agent closed the connection (close code ${code}${shownReason}) before the call ended`,
    );
  }

  #onConnectTimeout(): void {
    this.#connectTimer = undefined;
    if (this.#opened) return;
    this.#fail(
      'agent_unreachable',
      `url ${this.#shownUrl} did not accept the connection within connectTimeoutMs ` +
        `${this.#options.connectTimeoutMs}`,
    );
  }

  /** Ends the agent after a failure: closes the socket, then reports the failure once. */
  #fail(code: AgentErrorCode, message: string): void {
    if (this.#done) return;
    this.#done = true;
    this.#stopConnectTimer();
    this.#queue.clear();

    const socket = this.#socket;
    if (socket?.readyState === WebSocket.CONNECTING) {
      socket.terminate();
    } else if (socket?.readyState === WebSocket.OPEN) {
      // Only a breach of the protocol finds the socket still open here.
      socket.close(CLOSE_PROTOCOL_ERROR, code);
    }

    this.#deliver(() => this.#events.onError(code, message));
  }

  #stopConnectTimer(): void {
    if (this.#connectTimer === undefined) return;
    clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
  }

  /** Calls an event handler; one that throws must not break this call's socket or the loop. */
  #deliver(handler: () => void): void {
    try {
      handler();
    } catch {
      this.#callbackErrors += 1;
    }
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
