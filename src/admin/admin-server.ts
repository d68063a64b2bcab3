import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { AuditStore } from '../audit/audit-store.js';
import { parseSince } from '../audit/report-since.js';
import { buildSecurityReport, type SecurityReport } from '../audit/security-report.js';
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
/** How long a refused body's client has to read the refusal before the connection is cut. */
const BODY_CLOSE_GRACE_MS = 500;
/** Connections open at once; the server closes any beyond these at once. */
const MAX_CONNECTIONS = 64;
/** How long a security report is served again rather than counted anew. */
const REPORT_REUSE_MS = 2_000;
/** Distinct report windows remembered at once. */
const REPORTS_KEPT = 8;
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
  /** Reports recently made, by their `since` text. */
  readonly #reports = new Map<string, { at: number; report: SecurityReport }>();
  /** The base URL, known once listening. */
  #url = '';

  private constructor(options: AdminServerOptions) {
    this.#options = options;
    this.#tokenDigest = options.token === '' ? undefined : digest(options.token);
    this.#server = createServer(
      {
        requestTimeout: REQUEST_TIMEOUT_MS,
        headersTimeout: REQUEST_TIMEOUT_MS,
        // Node looks for overdue requests this often (30 s by default).
        connectionsCheckingInterval: 1_000,
      },
      (request, response) => void this.#handle(request, response),
    );
    this.#server.maxConnections = MAX_CONNECTIONS;
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
        const { address, port, family } = admin.#server.address() as AddressInfo;
        admin.#url = `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
        resolve();
      });
    });
    return admin;
  }

  /** The base URL, e.g. `http://127.0.0.1:9470`. */
  get url(): string {
    return this.#url;
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      const body = hasBody(request);
      if (body) {
        // Admin requests carry nothing: refuse the body unread and hang up, rather than read
        // what a client could send for ever.
        response.setHeader('Connection', 'close');
        response.once('finish', () => {
          request.socket.end();
          setTimeout(() => request.socket.destroy(), BODY_CLOSE_GRACE_MS).unref();
        });
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.setHeader('Allow', 'GET, HEAD');
        throw new AdminRequestError(405, 'method_not_allowed', `${request.method} is not allowed`);
      }
      if (body) {
        throw new AdminRequestError(413, 'body_not_allowed', 'admin requests carry no body');
      }
      const target = parseTarget(request.url ?? '/');
      if (!OPEN_ROUTES.has(target.path)) this.#authorise(request);
      await this.#route(target, response);
    } catch (error) {
      if (error instanceof AdminRequestError) {
        if (error.status === 401) response.setHeader('WWW-Authenticate', 'Bearer');
        sendJson(response, error.status, { error: error.code, message: error.message });
      } else {
        // The cause stays inside: an error's text is no business of a client's.
        sendJson(response, 500, { error: 'internal', message: 'internal error' });
      }
    }
  }

  #authorise(request: IncomingMessage): void {
    if (this.#tokenDigest === undefined) return;
    const header = request.headers.authorization ?? '';
    // Auth scheme names are case-insensitive (RFC 9110).
    const match = /^Bearer +(\S+) *$/i.exec(header);
    if (match === null || !timingSafeEqual(digest(match[1] as string), this.#tokenDigest)) {
      throw new AdminRequestError(401, 'unauthorized', 'a valid bearer token is required');
    }
  }

  async #route(target: RequestTarget, response: ServerResponse): Promise<void> {
    const { metrics } = this.#options;
    const { path, query } = target;
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
      sendJson(response, 200, this.#call(decodedCallId(path.slice('/api/calls/'.length))));
    } else if (path === '/api/call') {
      // For ids that URL clients rewrite in a path (`.`, `..`): GET /api/call?id=..
      sendJson(response, 200, this.#call(query.get('id') ?? ''));
    } else if (path === '/api/report') {
      sendJson(response, 200, this.#report(query));
    } else {
      throw new AdminRequestError(404, 'not_found', `no route ${shown(path)}`);
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
  #call(callId: string): unknown {
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
      throw new AdminRequestError(404, 'unknown_call', `no call ${shown(callId)}`);
    }
    return { state: record.state, call: record };
  }

  /**
   * The security report, counted in SQL on the main thread: a report asked for again within
   * REPORT_REUSE_MS is the one already made, so a client polling it cannot stall the calls.
   */
  #report(query: URLSearchParams): unknown {
    for (const key of query.keys()) {
      if (key === 'verify') {
        throw new AdminRequestError(
          400,
          'verify_not_offered',
          'verify: the chain walk reads the whole store, so it is not run on the bridge; ' +
            'run `voicebridge report --verify` against the audit file instead',
        );
      }
      if (key !== 'since') {
        throw new AdminRequestError(400, 'bad_query', `unknown parameter ${shown(key)}`);
      }
    }
    const sinceText = query.get('since') ?? '';
    const now = this.#options.clock();
    const reused = this.#reports.get(sinceText);
    if (reused !== undefined && now - reused.at < REPORT_REUSE_MS) return reused.report;

    let since: number | undefined;
    if (sinceText !== '') {
      since = parseSince(sinceText, now);
      if (since === undefined) {
        throw new AdminRequestError(
          400,
          'bad_since',
          `since: expected a duration such as 24h or an ISO 8601 time, got ${shown(sinceText)}`,
        );
      }
    }
    const report = buildSecurityReport(this.#options.audit, { since, now });
    if (this.#reports.size >= REPORTS_KEPT) this.#reports.clear();
    this.#reports.set(sinceText, { at: now, report });
    return report;
  }
}

/** A request's path (still percent-encoded, never normalised) and its query. */
interface RequestTarget {
  path: string;
  query: URLSearchParams;
}

/**
 * Splits a request target without resolving `.` and `..` segments: a call id chosen by a
 * caller may be `..`, and `/api/calls/..` must look that call up, not `/api`.
 */
function parseTarget(target: string): RequestTarget {
  if (!target.startsWith('/')) {
    throw new AdminRequestError(
      400,
      'bad_request',
      `request target ${shown(target)} is not a path`,
    );
  }
  const mark = target.indexOf('?');
  const path = mark === -1 ? target : target.slice(0, mark);
  const query = new URLSearchParams(mark === -1 ? '' : target.slice(mark + 1));
  return { path, query };
}

/** A call id from a path segment. */
function decodedCallId(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw new AdminRequestError(
      400,
      'bad_call_id',
      `call id ${shown(encoded)} is not valid percent-encoding`,
    );
  }
}

/** A value quoted for an error message, cut to 64 characters. */
function shown(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}

function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return (
    (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined
  );
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
