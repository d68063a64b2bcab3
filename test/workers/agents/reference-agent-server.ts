import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';

import { pack, unpack } from 'msgpackr';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';

/*
 * The agent side of the protocol, written from the protocol document and not from the bridge's
 * code, so that a mistake in the bridge's encoding shows up as a violation here. The byte
 * values below are written out on purpose rather than imported.
 */
const AUDIO = 0x01;
const CONTROL = 0x02;
const FRAME_SAMPLES = 960;
const AUDIO_MESSAGE_BYTES = 1 + FRAME_SAMPLES * 2;
const MAX_MESSAGE_BYTES = 65_536;
/** A frame counts as voiced once any sample is louder than this. */
const VOICE_THRESHOLD = 500;

/**
 * How one connection behaves, chosen by the `behaviour` query parameter of the URL the bridge
 * connects to. Every misbehaviour but `never_answer` happens right after the server receives
 * `start`.
 */
export type AgentBehaviour =
  /** Echoes every audio frame and reports one input and one output token per voiced frame. */
  | 'echo'
  /** Sends a message whose kind byte is unknown. */
  | 'garbage'
  /** Sends an empty binary message. */
  | 'empty'
  /** Sends one byte more than the 64 KiB limit. */
  | 'oversized'
  /** Sends a valid usage report padded to exactly the 64 KiB limit. */
  | 'largest_usage'
  /** Sends an audio message one byte short. */
  | 'wrong_length'
  /** Sends a control message whose type nobody knows. */
  | 'unknown_type'
  /** Sends a control message whose msgpack map ends early. */
  | 'not_msgpack'
  /** Sends a control message that is a msgpack array rather than a map. */
  | 'not_a_map'
  /** Sends a control map with no type. */
  | 'no_type'
  /** Sends a text message. */
  | 'text'
  /** Sends `start`, which only the bridge may send. */
  | 'send_start'
  /** Sends `ended`, which only the bridge may send. */
  | 'send_ended'
  /** Sends usage with a negative input token count. */
  | 'bad_usage'
  /** Sends usage with a model name that is too long. */
  | 'bad_model'
  /** Sends a hangup whose reason is a number. */
  | 'bad_hangup'
  /** Sends a hangup with a reason, and keeps echoing. */
  | 'hangup'
  /** Sends a hangup with no reason, then closes the connection at once. */
  | 'hangup_and_leave'
  /** Closes the connection normally before the bridge ended the call. */
  | 'close_cleanly'
  /** Destroys the TCP connection with no closing handshake. */
  | 'close_abruptly'
  /** Accepts the TCP connection and never answers the WebSocket handshake. */
  | 'never_answer'
  /** Sends `frames` numbered frames at once (sample 0 holds the number). */
  | 'flood'
  /** Stops reading from the connection. */
  | 'stall';

/** What the server saw on one connection. */
export interface ReferenceConnection {
  behaviour: AgentBehaviour;
  /** The `start` message, once received. */
  start: Record<string, unknown> | undefined;
  /** Control messages received after `start`, in order. */
  controls: Record<string, unknown>[];
  /** Audio frames received. */
  framesHeard: number;
  /** Things the bridge sent that break the protocol. */
  violations: string[];
  /** The close code the bridge sent, or 1005/1006 when there was none; undefined while open. */
  closeCode: number | undefined;
}

/** A loopback agent server that speaks the agent protocol, for tests. */
export class ReferenceAgentServer {
  /** The HTTP or HTTPS server that takes the upgrade requests. */
  readonly #server: Server;
  /** The WebSocket side, driven by hand so handshakes can be left hanging. */
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  /** TCP connections whose handshake is never answered, to destroy at the end. */
  readonly #hanging = new Set<Duplex>();
  /** Whether the URLs are wss://. */
  readonly #tls: boolean;
  /** Every connection in the order it was opened. */
  readonly connections: ReferenceConnection[] = [];

  private constructor(server: Server, tls: boolean) {
    this.#server = server;
    this.#tls = tls;
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.#onUpgrade(request, socket, head);
    });
  }

  /** Starts a server on 127.0.0.1 on a free port; over TLS if a certificate is given. */
  static async start(tls?: { cert: string; key: string }): Promise<ReferenceAgentServer> {
    const server = tls === undefined ? createHttpServer() : createHttpsServer(tls);
    const reference = new ReferenceAgentServer(server, tls !== undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return reference;
  }

  /** The URL that makes a connection behave as `behaviour`. */
  url(behaviour: AgentBehaviour = 'echo', frames = 0): string {
    const { port } = this.#server.address() as AddressInfo;
    const scheme = this.#tls ? 'wss' : 'ws';
    return `${scheme}://127.0.0.1:${port}/agent?behaviour=${behaviour}&frames=${frames}`;
  }

  /** Ends every connection and stops listening. */
  async close(): Promise<void> {
    for (const socket of this.#hanging) socket.destroy();
    for (const client of this.#wss.clients) client.terminate();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const query = new URL(request.url ?? '/', 'http://127.0.0.1').searchParams;
    const behaviour = (query.get('behaviour') ?? 'echo') as AgentBehaviour;
    const frames = Number(query.get('frames') ?? '0');

    if (behaviour === 'never_answer') {
      this.#hanging.add(socket);
      socket.on('error', () => undefined);
      return;
    }
    this.#wss.handleUpgrade(request, socket, head, (ws) => {
      this.#serve(ws, socket, behaviour, frames);
    });
  }

  #serve(ws: WebSocket, socket: Duplex, behaviour: AgentBehaviour, frames: number): void {
    const connection: ReferenceConnection = {
      behaviour,
      start: undefined,
      controls: [],
      framesHeard: 0,
      violations: [],
      closeCode: undefined,
    };
    this.connections.push(connection);

    ws.on('error', (error) => connection.violations.push(`socket error: ${error.message}`));
    ws.on('close', (code) => {
      connection.closeCode = code;
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const bytes = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
      if (!isBinary) {
        connection.violations.push('text message');
        return;
      }
      const kind = bytes[0];
      if (kind === AUDIO) {
        this.#onAudio(ws, connection, bytes);
      } else if (kind === CONTROL) {
        const control = decodeControl(bytes, connection);
        if (control === undefined) return;
        if (connection.start === undefined) {
          if (control['type'] !== 'start') connection.violations.push('first control not start');
          connection.start = control;
          misbehave(ws, socket, behaviour, frames);
        } else {
          connection.controls.push(control);
        }
      } else {
        connection.violations.push(`kind byte ${String(kind)}`);
      }
    });
  }

  #onAudio(ws: WebSocket, connection: ReferenceConnection, bytes: Buffer): void {
    if (connection.start === undefined) connection.violations.push('audio before start');
    if (bytes.length !== AUDIO_MESSAGE_BYTES) {
      connection.violations.push(`audio message of ${bytes.length} bytes`);
      return;
    }
    connection.framesHeard += 1;
    if (connection.behaviour !== 'echo' && connection.behaviour !== 'hangup') return;

    ws.send(bytes);
    if (isVoiced(bytes)) {
      sendControl(ws, { type: 'usage', input_tokens: 1, output_tokens: 1, model: 'reference' });
    }
  }
}

function misbehave(ws: WebSocket, socket: Duplex, behaviour: AgentBehaviour, frames: number): void {
  switch (behaviour) {
    case 'echo':
    case 'never_answer':
      return;
    case 'garbage':
      ws.send(Buffer.from([0x07, 1, 2, 3]));
      return;
    case 'empty':
      ws.send(Buffer.alloc(0));
      return;
    case 'oversized':
      ws.send(Buffer.alloc(MAX_MESSAGE_BYTES + 1, AUDIO));
      return;
    case 'largest_usage':
      ws.send(largestUsage());
      return;
    case 'wrong_length':
      ws.send(Buffer.alloc(AUDIO_MESSAGE_BYTES - 1, AUDIO));
      return;
    case 'unknown_type':
      sendControl(ws, { type: 'dance' });
      return;
    case 'not_msgpack':
      ws.send(Buffer.from([CONTROL, 0xde, 0x00, 0x05, 0xa4]));
      return;
    case 'not_a_map':
      ws.send(Buffer.concat([Buffer.from([CONTROL]), pack(['usage', 1, 1])]));
      return;
    case 'no_type':
      sendControl(ws, { input_tokens: 1 });
      return;
    case 'text':
      ws.send('hello');
      return;
    case 'send_start':
      sendControl(ws, { type: 'start', call_id: 'x' });
      return;
    case 'send_ended':
      sendControl(ws, { type: 'ended', reason: 'bye' });
      return;
    case 'bad_usage':
      sendControl(ws, { type: 'usage', input_tokens: -1, output_tokens: 0, model: 'm' });
      return;
    case 'bad_model':
      sendControl(ws, { type: 'usage', input_tokens: 1, output_tokens: 0, model: 'm'.repeat(201) });
      return;
    case 'bad_hangup':
      sendControl(ws, { type: 'hangup', reason: 42 });
      return;
    case 'hangup':
      sendControl(ws, { type: 'hangup', reason: 'caller_satisfied' });
      return;
    case 'hangup_and_leave':
      sendControl(ws, { type: 'hangup' });
      ws.close(1000);
      return;
    case 'close_cleanly':
      ws.close(1000);
      return;
    case 'close_abruptly':
      socket.destroy();
      return;
    case 'flood':
      for (let i = 0; i < frames; i += 1) {
        const message = Buffer.alloc(AUDIO_MESSAGE_BYTES);
        message[0] = AUDIO;
        message.writeInt16LE(i % 32_768, 1);
        ws.send(message);
      }
      return;
    case 'stall':
      (socket as Socket).pause();
      return;
  }
}

function sendControl(ws: WebSocket, message: Record<string, unknown>): void {
  ws.send(Buffer.concat([Buffer.from([CONTROL]), pack(message)]));
}

function decodeControl(
  bytes: Buffer,
  connection: ReferenceConnection,
): Record<string, unknown> | undefined {
  try {
    const value: unknown = unpack(bytes.subarray(1));
    if (
      typeof value === 'object' &&
      value !== null &&
      typeof Reflect.get(value, 'type') === 'string'
    ) {
      return value as Record<string, unknown>;
    }
    connection.violations.push('control message is not a map with a type');
  } catch (error) {
    connection.violations.push(`control message is not msgpack: ${String(error)}`);
  }
  return undefined;
}

function isVoiced(message: Buffer): boolean {
  for (let offset = 1; offset < message.length; offset += 2) {
    if (Math.abs(message.readInt16LE(offset)) > VOICE_THRESHOLD) return true;
  }
  return false;
}

/** A usage report padded with an extra field to exactly the largest message allowed. */
function largestUsage(): Buffer {
  const report = { type: 'usage', input_tokens: 7, output_tokens: 0, model: 'big', pad: 'x' };
  report.pad = 'x'.repeat(1_000);
  const size = 1 + pack(report).length;
  report.pad = 'x'.repeat(1_000 + MAX_MESSAGE_BYTES - size);
  const message = Buffer.concat([Buffer.from([CONTROL]), pack(report)]);
  if (message.length !== MAX_MESSAGE_BYTES) throw new Error('largest usage is the wrong size');
  return message;
}
