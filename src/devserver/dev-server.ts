import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

import type { Device } from './accounts.js';
import { makeDevCertificate, type DevCertificate } from './certificate.js';
import {
  resolveDevServerOptions,
  type DevServerLog,
  type DevServerOptions,
} from './dev-server-options.js';
import { Homeserver } from './homeserver.js';
import {
  accessTokenOf,
  parseJsonBody,
  readBody,
  sendJson,
  sendPreflight,
} from './http-exchange.js';
import { MatrixError } from './matrix-error.js';
import type { RouteReply } from './route.js';
import { Router } from './router.js';
import { allRoutes } from './routes.js';

/** The only address the server listens on. */
const HOST = '127.0.0.1';
/** How long an idle keep-alive connection stays open. */
const KEEP_ALIVE_MS = 65_000;
/** How long `close` lets answers in flight finish before it cuts their connections. */
const CLOSE_GRACE_MS = 1000;
/**
 * Connections the kernel may queue before they are accepted. Node's default of 511 overflows
 * when a benchmark opens thousands of syncs at once, and the connections that overflow end
 * in resets; the kernel caps this at its own limit (net.core.somaxconn).
 */
const LISTEN_BACKLOG = 4096;

/** Counts that show how busy the server is, for benchmarks and tests. */
export interface DevServerStats {
  readonly users: number;
  readonly rooms: number;
  /** Syncs currently long-polling. */
  readonly waitingSyncs: number;
  /** The latest stream position: how many changes the server has made. */
  readonly streamPosition: number;
}

/**
 * A development Matrix homeserver: the client-server API over HTTPS on 127.0.0.1, all state
 * in memory, for tests, benchmarks and `voicebridge dev`. Never for production: nothing is
 * kept, there is no federation, and its certificate is made up at start.
 */
export class DevServer {
  /** The server's self-signed certificate (PEM): the CA a client must trust. */
  readonly caPem: string;
  /** The server name in user ids and room ids. */
  readonly serverName: string;

  /** The HTTPS server. */
  readonly #server: Server;
  /** All homeserver state. */
  readonly #hs: Homeserver;
  /** Maps request paths to endpoints. */
  readonly #router: Router;
  /** Where log entries go. */
  readonly #log: DevServerLog;
  /** Open TCP connections, TLS handshakes included, so `close` can end every one. */
  readonly #sockets = new Set<Socket>();
  /** The base URL, known once the server listens. */
  #url = '';
  /** Set once `close` has started; later calls wait on the same close. */
  #closing: Promise<void> | undefined;

  private constructor(hs: Homeserver, certificate: DevCertificate, log: DevServerLog) {
    this.#hs = hs;
    this.caPem = certificate.certPem;
    this.serverName = hs.serverName;
    this.#log = log;
    this.#router = new Router(allRoutes(() => this.#url));
    const tls = { key: certificate.keyPem, cert: certificate.certPem };
    // Idle keep-alive connections stay open longer than most clients keep theirs, so a client
    // seldom sends on a connection just as the server closes it.
    this.#server = createServer({ ...tls, keepAliveTimeout: KEEP_ALIVE_MS }, (req, res) => {
      void this.#handle(req, res);
    });
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  /** Makes a certificate, listens on 127.0.0.1 and resolves once the server is up. */
  static async start(options: DevServerOptions = {}): Promise<DevServer> {
    const resolved = resolveDevServerOptions(options);
    const hs = new Homeserver({
      serverName: resolved.serverName,
      clock: resolved.clock,
      sendRateLimit: resolved.rateLimit,
    });
    const devServer = new DevServer(hs, await makeDevCertificate(Date.now()), resolved.log);
    await devServer.#listen(resolved.port);
    resolved.log('warn', 'devserver_started', {
      url: devServer.url,
      server_name: resolved.serverName,
      message:
        'development homeserver: all state is in memory and lost at exit; not for production',
    });
    return devServer;
  }

  /** `https://127.0.0.1:PORT`, the base URL clients use. */
  get url(): string {
    return this.#url;
  }

  async #listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ port, host: HOST, backlog: LISTEN_BACKLOG }, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#url = `https://${HOST}:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Counts of users, rooms, waiting syncs and changes. */
  stats(): DevServerStats {
    return {
      users: this.#hs.accounts.size,
      rooms: this.#hs.rooms.size,
      waitingSyncs: this.#hs.notifier.waiting,
      streamPosition: this.#hs.stream.current,
    };
  }

  /**
   * Stops the server: waiting syncs answer at once with what they have, answers in flight get
   * a moment to finish, then every connection is closed. Resolves once the port is free.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#hs.notifier.closeAll();
    // Lets the woken syncs write their answers before connections go.
    await new Promise((resolve) => setImmediate(resolve));
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    // Connections still open after the grace period are cut, half-done TLS handshakes too.
    const force = setTimeout(() => {
      for (const socket of this.#sockets) socket.destroy();
    }, CLOSE_GRACE_MS);
    await closed;
    clearTimeout(force);
    this.#log('info', 'devserver_stopped', { url: this.url });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Only long-polls need to know that the client went away: the signal is made on demand.
    let controller: AbortController | undefined;
    let gone = false;
    res.on('close', () => {
      if (res.writableFinished) return;
      gone = true;
      controller?.abort();
    });
    const signal = (): AbortSignal => {
      if (controller === undefined) {
        controller = new AbortController();
        if (gone) controller.abort();
      }
      return controller.signal;
    };
    // While closing, each answer that completes frees its connection at once.
    res.on('finish', () => {
      if (this.#closing !== undefined) this.#server.closeIdleConnections();
    });

    const method = req.method ?? 'GET';
    if (method === 'OPTIONS') {
      sendPreflight(res);
      return;
    }
    try {
      const url = new URL(req.url ?? '/', 'https://host.invalid');
      const reply = await this.#dispatch(req, method, url, signal);
      sendJson(res, reply.status, reply.body);
    } catch (error) {
      if (error instanceof MatrixError) {
        // The rest of an oversized body is never read: end the connection rather than drain it.
        if (error.status === 413) res.shouldKeepAlive = false;
        sendJson(res, error.status, error.body());
        return;
      }
      // A client that hung up mid-request is no fault of the server's: nothing to answer or log.
      if (res.destroyed) return;
      this.#log('error', 'devserver_request_failed', {
        method,
        path: (req.url ?? '').split('?')[0] ?? '',
        error: error instanceof Error ? error.message : String(error),
      });
      sendJson(res, 500, { errcode: 'M_UNKNOWN', error: 'Internal server error' });
    }
  }

  async #dispatch(
    req: IncomingMessage,
    method: string,
    url: URL,
    signal: () => AbortSignal,
  ): Promise<RouteReply> {
    const { route, params } = this.#router.match(method, url.pathname);
    const raw = method === 'GET' ? Buffer.alloc(0) : await readBody(req);
    const device = route.auth ? this.#authenticate(req, url) : undefined;
    const common = {
      hs: this.#hs,
      params,
      query: url.searchParams,
      body: parseJsonBody(raw),
      key: `${method} ${route.path} ${JSON.stringify(params)}`,
      signal,
    };
    if (!route.auth) return route.handle(common);
    if (device === undefined) throw new Error('an authenticated route reached without a device');
    return route.handle({ ...common, device });
  }

  /** The device of the request's access token; 401 when there is none or it is unknown. */
  #authenticate(req: IncomingMessage, url: URL): Device {
    const token = accessTokenOf(req, url.searchParams);
    if (token === undefined) {
      throw new MatrixError(401, 'M_MISSING_TOKEN', 'Missing access token');
    }
    const device = this.#hs.accounts.authenticate(token);
    if (device === undefined) {
      throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Unknown access token', {
        soft_logout: false,
      });
    }
    return device;
  }
}

/** Starts a development homeserver; see {@link DevServer}. */
export function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  return DevServer.start(options);
}
