import { createReadStream, existsSync } from 'node:fs';
import {
  Agent as HttpAgent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The only address the page server listens on: a browser treats it as a secure context. */
const HOST = '127.0.0.1';

/**
 * The built page (`npm run build` puts it in `dist/page`), seen from this module compiled
 * (`dist/src/dev/`) or run from source (`src/dev/`, as the tests do).
 */
const PAGE_DIR =
  [new URL('../../page/', import.meta.url), new URL('../../dist/page/', import.meta.url)].find(
    (dir) => existsSync(new URL('index.html', dir)),
  ) ?? new URL('../../page/', import.meta.url);

/** The files the page server serves, and their types; nothing else on disk is reachable. */
const PAGE_FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/demo-call.js': { file: 'demo-call.js', type: 'text/javascript; charset=utf-8' },
  '/demo-call.js.map': { file: 'demo-call.js.map', type: 'application/json' },
  '/pkg/matrix_sdk_crypto_wasm_bg.wasm': {
    file: 'pkg/matrix_sdk_crypto_wasm_bg.wasm',
    type: 'application/wasm',
  },
};

/** Headers that belong to one connection and are not passed on by a proxy. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/** A fresh device of a demo caller and its room with the bot, for `/dev/session`. */
export interface PageSession {
  user_id: string;
  device_id: string;
  access_token: string;
  room_id: string;
  bot_user_id: string;
}

/** Options of {@link PageServer.start}. */
export interface PageServerOptions {
  /** The port on 127.0.0.1; 0 takes a free one. */
  port: number;
  /** The development homeserver (`https://127.0.0.1:PORT`) and the CA that signs it. */
  homeserverUrl: string;
  homeserverCa: string;
  /** The bridge's admin server, when it runs, and its bearer token ('' for none). */
  adminUrl: string | undefined;
  adminToken: string;
  /**
   * Logs in a new device of the named demo caller ('' for the first one); undefined when
   * there is no such caller.
   */
  session: (caller: string) => Promise<PageSession | undefined>;
}

/**
 * The demo page's own HTTP server on 127.0.0.1: the page and its script, a fresh Matrix
 * session for it (`/dev/session`), and two proxies, so that the browser talks to one origin
 * only: `/_matrix/` to the development homeserver (whose certificate the browser does not
 * know) and `/api/` and `/metrics` to the bridge's admin server. Development only.
 */
export class PageServer {
  readonly #server: Server;
  readonly #options: PageServerOptions;
  /** Keep-alive agents for the two upstreams. */
  readonly #homeserverAgent: HttpsAgent;
  readonly #adminAgent = new HttpAgent({ keepAlive: true });
  #url = '';

  private constructor(options: PageServerOptions) {
    this.#options = options;
    this.#homeserverAgent = new HttpsAgent({ keepAlive: true, ca: options.homeserverCa });
    this.#server = createServer((req, res) => this.#handle(req, res));
  }

  /** Listens on 127.0.0.1 and resolves once the server is up. */
  static async start(options: PageServerOptions): Promise<PageServer> {
    if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65_535) {
      throw new TypeError(`port must be an integer from 0 to 65535, got ${String(options.port)}`);
    }
    const page = new PageServer(options);
    await new Promise<void>((resolve, reject) => {
      page.#server.once('error', reject);
      page.#server.listen({ port: options.port, host: HOST }, () => {
        page.#server.off('error', reject);
        resolve();
      });
    });
    page.#url = `http://${HOST}:${(page.#server.address() as AddressInfo).port}/`;
    return page;
  }

  /** `http://127.0.0.1:PORT/`, the page's address. */
  get url(): string {
    return this.#url;
  }

  /** Stops listening and ends every connection, proxied long-polls included. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
    this.#homeserverAgent.destroy();
    this.#adminAgent.destroy();
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    // A page of another site that rebinds its name to 127.0.0.1 still sends its own name.
    const port = new URL(this.#url).port;
    const host = req.headers.host ?? '';
    if (![`${HOST}:${port}`, `localhost:${port}`].includes(host)) {
      sendJson(res, 421, { error: `this server answers to ${HOST}:${port} only` });
      return;
    }
    const url = new URL(req.url ?? '/', this.#url);
    const method = req.method ?? 'GET';

    if (url.pathname.startsWith('/_matrix/')) {
      this.#proxy(req, res, new URL(url.pathname + url.search, this.#options.homeserverUrl), {});
      return;
    }
    if (url.pathname.startsWith('/api/') || url.pathname === '/metrics') {
      const { adminUrl, adminToken } = this.#options;
      if (adminUrl === undefined) {
        sendJson(res, 503, { error: 'the bridge runs without its admin server (admin.enabled)' });
        return;
      }
      const auth: Record<string, string> =
        adminToken === '' ? {} : { authorization: `Bearer ${adminToken}` };
      this.#proxy(req, res, new URL(url.pathname + url.search, adminUrl), auth);
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      sendJson(res, 405, { error: `${method} is not served here` });
      return;
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (url.pathname === '/dev/session') {
      void this.#session(url.searchParams.get('caller') ?? '', res);
      return;
    }
    const file = PAGE_FILES[url.pathname];
    if (file === undefined) {
      sendJson(res, 404, { error: `no ${url.pathname} here` });
      return;
    }
    const stream = createReadStream(fileURLToPath(new URL(file.file, PAGE_DIR)));
    stream.once('open', () => {
      res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' });
      if (method === 'HEAD') {
        stream.destroy();
        res.end();
      } else stream.pipe(res);
    });
    stream.once('error', () => {
      sendJson(res, 500, { error: `${file.file} is missing: run npm run build` });
    });
  }

  async #session(caller: string, res: ServerResponse): Promise<void> {
    try {
      const session = await this.#options.session(caller);
      if (session === undefined) {
        sendJson(res, 404, { error: `no demo caller ${JSON.stringify(caller)}` });
        return;
      }
      sendJson(res, 200, session);
    } catch (error) {
      sendJson(res, 502, { error: `login failed: ${String(error)}` });
    }
  }

  /** Passes the request on to `target` and its answer back, both streamed. */
  #proxy(
    req: IncomingMessage,
    res: ServerResponse,
    target: URL,
    extraHeaders: Record<string, string>,
  ): void {
    const https = target.protocol === 'https:';
    const upstream = (https ? httpsRequest : httpRequest)(
      target,
      {
        method: req.method,
        headers: { ...endToEnd(req.headers), ...extraHeaders },
        agent: https ? this.#homeserverAgent : this.#adminAgent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      if (!res.headersSent) sendJson(res, 502, { error: `upstream: ${error.message}` });
      else res.destroy();
    });
    // A browser that gives up a long-poll gives it up upstream too.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }
}

/** The headers a proxy passes on. */
function endToEnd(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}
