import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

import { MatrixError } from './matrix-error.js';

/** How the bridge reaches its homeserver. */
export interface MatrixHttpOptions {
  /** `https://host[:port]` (or `http://` when TLS is not required). */
  baseUrl: string;
  accessToken?: string;
  /** Extra CA certificates (PEM) trusted for the homeserver, on top of the system's. */
  ca?: string;
  /** Longest wait for one request, in ms, unless the request says otherwise. Default 30 s. */
  timeoutMs?: number;
  /** Largest response body accepted, in bytes. Default 32 MiB. */
  maxResponseBytes?: number;
}

/** One request. */
export interface MatrixRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path under the base URL, already encoded: `/_matrix/client/v3/...`. */
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  timeoutMs?: number;
  /** Send without the access token (login). */
  anonymous?: boolean;
  /** Gives the request up (a long-poll, when the bridge stops). */
  signal?: AbortSignal;
}

/**
 * JSON over HTTP(S) to one homeserver, with certificates verified (and an extra CA when
 * configured), a timeout and a size cap on every request, and the access token sent only in
 * the Authorization header, so that it never appears in a URL, a log line or an error.
 */
export class MatrixHttp {
  readonly #base: URL;
  readonly #agent: HttpAgent | HttpsAgent;
  readonly #timeoutMs: number;
  readonly #maxResponseBytes: number;
  /** The bot's access token; set after login. */
  #accessToken: string | undefined;

  constructor(options: MatrixHttpOptions) {
    this.#base = new URL(options.baseUrl);
    if (this.#base.protocol !== 'https:' && this.#base.protocol !== 'http:') {
      throw new TypeError(`baseUrl must be http:// or https://, got ${this.#base.protocol}`);
    }
    this.#agent =
      this.#base.protocol === 'https:'
        ? new HttpsAgent({ keepAlive: true, ca: options.ca, rejectUnauthorized: true })
        : new HttpAgent({ keepAlive: true });
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#maxResponseBytes = options.maxResponseBytes ?? 32 * 1024 * 1024;
    this.#accessToken = options.accessToken;
  }

  /** True when the link to the homeserver is TLS. */
  get tls(): boolean {
    return this.#base.protocol === 'https:';
  }

  /** Sets the token used from now on. */
  set accessToken(token: string) {
    this.#accessToken = token;
  }

  /** Sends one request and returns the parsed JSON body; throws MatrixError. */
  request<T>(req: MatrixRequest): Promise<T> {
    const url = new URL(req.path, this.#base);
    for (const [key, value] of Object.entries(req.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const body = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(body.length);
    }
    if (req.anonymous !== true && this.#accessToken !== undefined) {
      headers.authorization = `Bearer ${this.#accessToken}`;
    }
    const what = `${req.method} ${url.pathname}`;
    const timeoutMs = req.timeoutMs ?? this.#timeoutMs;
    const send = this.tls ? httpsRequest : httpRequest;

    return new Promise<T>((resolve, reject) => {
      const request = send(url, { method: req.method, headers, agent: this.#agent }, (response) => {
        this.#read(response, what).then(resolve as (value: unknown) => void, reject);
      });
      request.setTimeout(timeoutMs, () => {
        request.destroy(new Error(`no answer within ${timeoutMs} ms`));
      });
      request.on('error', (error) => {
        reject(new MatrixError('network_error', `${what}: ${error.message}`, { cause: error }));
      });
      const abort = (): void => {
        request.destroy(new MatrixError('gave_up', `${what}: given up`));
      };
      if (req.signal?.aborted === true) abort();
      req.signal?.addEventListener('abort', abort, { once: true });
      request.on('close', () => req.signal?.removeEventListener('abort', abort));
      request.end(body);
    });
  }

  /** Closes idle connections. */
  close(): void {
    this.#agent.destroy();
  }

  async #read(response: IncomingMessage, what: string): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > this.#maxResponseBytes) {
        response.destroy();
        throw new MatrixError(
          'bad_response',
          `${what}: response over ${this.#maxResponseBytes} bytes`,
        );
      }
      chunks.push(chunk);
    }
    const status = response.statusCode ?? 0;
    let json: unknown;
    try {
      json = size === 0 ? {} : JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new MatrixError('bad_response', `${what}: answer ${status} is not JSON`, { status });
    }
    if (status >= 200 && status < 300) {
      if (typeof json !== 'object' || json === null) {
        throw new MatrixError('bad_response', `${what}: answer is not a JSON object`, { status });
      }
      return json;
    }

    const fields = (typeof json === 'object' && json !== null ? json : {}) as Record<
      string,
      unknown
    >;
    const errcode = typeof fields.errcode === 'string' ? fields.errcode.slice(0, 100) : undefined;
    const text = typeof fields.error === 'string' ? fields.error.slice(0, 300) : '';
    if (status === 429) {
      const retryAfterMs = retryAfter(fields, response.headers['retry-after']);
      throw new MatrixError('rate_limited', `${what}: rate limited for ${retryAfterMs} ms`, {
        status,
        errcode,
        retryAfterMs,
      });
    }
    throw new MatrixError(
      'homeserver_error',
      `${what}: ${status} ${errcode ?? ''} ${text}`.trim(),
      {
        status,
        errcode,
      },
    );
  }
}

/** How long a 429 asks to wait: `retry_after_ms`, else the Retry-After header, else 1 s. */
function retryAfter(
  fields: Record<string, unknown>,
  header: string | string[] | undefined,
): number {
  const ms = fields.retry_after_ms;
  if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) return Math.min(ms, 300_000);
  const seconds = Number(Array.isArray(header) ? header[0] : header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1_000, 300_000);
  return 1_000;
}
