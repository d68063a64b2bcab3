import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { AuditStore } from '../audit/audit-store.js';
import { parseSince } from '../audit/report-since.js';
import { buildSecurityReport } from '../audit/security-report.js';
import type { CallGate } from '../calls/call-gate.js';
import type { Clock } from '../clock.js';
import type { CallSessions } from '../engine/call-sessions.js';
import type { BridgeMetrics } from '../telemetry/metrics.js';
import { isLoopbackAddress } from '../config/loopback.js';
import { liveCallView, type LiveCallView } from './live-calls.js';

/** What the admin server serves and where. */
export interface AdminServerOptions {
  bindAddress: string;
  /** 0 picks a free port. */
  port: number;
  /** Bearer token; required when `bindAddress` is not loopback. Empty means none. */
  token: string;
  metrics: BridgeMetrics;
  gate: CallGate;
  sessions: CallSessions;
  audit: AuditStore;
  clock: Clock;
  /** Why the bridge cannot take calls now; empty when it can. */
  notReady: () => string[];
}

/** A request the admin server refuses, with its status and a stable code. */
class AdminRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Routes anyone on the admin address may read, token or not. */
const OPEN_ROUTES = new Set(['/healthz', '/readyz']);
/** How long a client may take to send its request. */
const REQUEST_TIMEOUT_MS = 10_000;
/** Longest call id the API looks up (the audit store's own limit). */
const MAX_CALL_ID = 255;

/**
 * The admin HTTP server: health and readiness, Prometheus metrics, the live calls with their
 * usage and limits, one call (live or from the audit store), and the security report. Read
 * only: every route is a GET. With a token set, every route but the health checks needs
 * `Authorization: Bearer <token>`; away from loopback a token is required to start at all.
 */
export class AdminServer {
  readonly #options: AdminServerOptions;
  readonly #server: Server;
  /** SHA-256 of the token, compared in constant time; undefined when no token is set. */
  readonly #tokenDigest: Buffer | undefined;

  private constructor(options: AdminServerOptions) {
    this.#options = options;
    this.#tokenDigest = options.token === '' ? undefined : digest(options.token);
    this.#server = createServer((request, response) => void this.#handle(request, response));
    this.#server.requestTimeout = REQUEST_TIMEOUT_MS;
    this.#server.headersTimeout = REQUEST_TIMEOUT_MS;
  }

  /** Starts listening; throws when the address is not loopback and no token is set. */
  static async start(options: AdminServerOptions): Promise<AdminServer> {
    if (options.token === '' && !isLoopbackAddress(options.bindAddress)) {
      throw new TypeError(
        `admin.bind_address ${JSON.stringify(options.bindAddress)} is not loopback: ` +
          'admin.token (or admin.token_file) is required',
      );
    }
    const admin = new AdminServer(options);
    await new Promise<void>((resolve, reject) => {
      admin.#server.once('error', reject);
      admin.#server.listen(options.port, options.bindAddress, () => {
        admin.#server.off('error', reject);
        resolve();
      });
    });
    return admin;
  }

  /** The base URL, e.g. `http://127.0.0.1:9470`. */
  get url(): string {
    const { address, port, family } = this.#server.address() as AddressInfo;
    return `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // A body on a GET is never read; let it drain rather than stall the connection.
    request.resume();
    try {
      const url = new URL(request.url ?? '/', 'http://admin.invalid');
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.setHeader('Allow', 'GET, HEAD');
        throw new AdminRequestError(405, 'method_not_allowed', `${request.method} is not allowed`);
      }
      if (!OPEN_ROUTES.has(url.pathname)) this.#authorise(request);
      await this.#route(url, response);
    } catch (error) {
      if (error instanceof AdminRequestError) {
        if (error.status === 401) response.setHeader('WWW-Authenticate', 'Bearer');
        sendJson(response, error.status, { error: error.code, message: error.message });
      } else {
        sendJson(response, 500, { error: 'internal', message: String(error) });
      }
    }
  }

  #authorise(request: IncomingMessage): void {
    if (this.#tokenDigest === undefined) return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer (\S+)$/.exec(header);
    if (match === null || !timingSafeEqual(digest(match[1] as string), this.#tokenDigest)) {
      throw new AdminRequestError(401, 'unauthorized', 'a valid bearer token is required');
    }
  }

  async #route(url: URL, response: ServerResponse): Promise<void> {
    const { metrics } = this.#options;
    const path = url.pathname;
    if (path === '/healthz') {
      sendJson(response, 200, { status: 'ok' });
    } else if (path === '/readyz') {
      const reasons = this.#options.notReady();
      if (reasons.length === 0) sendJson(response, 200, { status: 'ready' });
      else sendJson(response, 503, { status: 'not_ready', reasons });
    } else if (path === '/metrics') {
      const text = await metrics.text();
      response.writeHead(200, { 'Content-Type': metrics.contentType });
      response.end(text);
    } else if (path === '/api/calls') {
      const calls = this.#liveCalls();
      const { capacity } = this.#options.sessions.slots;
      sendJson(response, 200, { count: calls.length, capacity, calls });
    } else if (path.startsWith('/api/calls/')) {
      sendJson(response, 200, this.#call(path.slice('/api/calls/'.length)));
    } else if (path === '/api/report') {
      sendJson(response, 200, this.#report(url.searchParams));
    } else {
      throw new AdminRequestError(404, 'not_found', `no route ${JSON.stringify(path)}`);
    }
  }

  #liveCalls(): LiveCallView[] {
    const { sessions, clock } = this.#options;
    const now = clock();
    const calls: LiveCallView[] = [];
    for (const session of sessions.live()) {
      const view = liveCallView(sessions.slots, session, now);
      if (view !== undefined) calls.push(view);
    }
    return calls;
  }

  /** One call: live from its slot, or its latest audit record once it has ended. */
  #call(encoded: string): unknown {
    let callId: string;
    try {
      callId = decodeURIComponent(encoded);
    } catch {
      throw new AdminRequestError(
        400,
        'bad_call_id',
        `call id ${JSON.stringify(encoded)} is not valid percent-encoding`,
      );
    }
    if (callId === '' || callId.length > MAX_CALL_ID) {
      throw new AdminRequestError(
        400,
        'bad_call_id',
        `call id must be 1 to ${MAX_CALL_ID} characters`,
      );
    }
    const { gate, sessions, audit, clock } = this.#options;
    const session = gate.liveCall(callId);
    const view = session === undefined ? undefined : liveCallView(sessions.slots, session, clock());
    if (view !== undefined) return { state: 'live', call: view };
    const [record] = audit.ofCall(callId, 1);
    if (record === undefined) {
      throw new AdminRequestError(404, 'unknown_call', `no call ${JSON.stringify(callId)}`);
    }
    return { state: record.state, call: record };
  }

  #report(query: URLSearchParams): unknown {
    const now = this.#options.clock();
    const sinceText = query.get('since');
    let since: number | undefined;
    if (sinceText !== null) {
      since = parseSince(sinceText, now);
      if (since === undefined) {
        throw new AdminRequestError(
          400,
          'bad_since',
          `since: expected a duration such as 24h or an ISO 8601 time, got ${JSON.stringify(sinceText.slice(0, 64))}`,
        );
      }
    }
    const verifyText = query.get('verify');
    if (verifyText !== null && verifyText !== 'true' && verifyText !== 'false') {
      throw new AdminRequestError(
        400,
        'bad_verify',
        `verify: expected true or false, got ${JSON.stringify(verifyText.slice(0, 64))}`,
      );
    }
    return buildSecurityReport(this.#options.audit, { since, now, verify: verifyText === 'true' });
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
  });
  response.end(text);
}
