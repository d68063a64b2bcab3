import { Agent, request as httpsRequest } from 'node:https';

/** A `fetch` with the same signature as the global one. */
export type FetchFunction = typeof globalThis.fetch;

/** Statuses whose responses have no body, which `Response` refuses to be given one. */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** The request body as bytes; the development server only ever needs JSON or bytes. */
async function bodyBytes(body: RequestInit['body']): Promise<Buffer | undefined> {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return Buffer.from(await new Response(body).arrayBuffer());
}

/**
 * A `fetch` for HTTPS URLs that trusts `caPem` (and only it), for clients of a development
 * homeserver, whose certificate no system store knows. Node 20's own `fetch` takes no CA
 * option without an extra package; this one runs over `node:https` with a keep-alive agent.
 * It handles what Matrix clients use: method, headers, a JSON or byte body, and an abort
 * signal (which rejects with an `AbortError`, as `fetch` does).
 *
 * Limitation: the body of a `Request` object given as `input` is not sent (clients pass a URL
 * and an init object), and redirects are not followed (the development server never sends one).
 */
export function createTrustingFetch(caPem: string): FetchFunction {
  // Without noDelay, Nagle's algorithm holds back small requests on a busy connection: on
  // loopback that halved the request rate of a many-requests-in-flight load.
  const agent = new Agent({ ca: caPem, keepAlive: true, noDelay: true });

  return async (input: Parameters<FetchFunction>[0], init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    if (url.protocol !== 'https:') throw new TypeError(`Only https URLs, got ${url.protocol}`);
    const headers = new Headers(input instanceof Request ? input.headers : undefined);
    new Headers(init.headers).forEach((value, name) => headers.set(name, value));
    const body = await bodyBytes(init.body ?? undefined);
    if (body !== undefined) headers.set('content-length', String(body.length));
    const signal = init.signal ?? undefined;

    return new Promise<Response>((resolve, reject) => {
      const abortError = (): DOMException =>
        new DOMException('The operation was aborted.', 'AbortError');
      if (signal?.aborted === true) {
        reject(abortError());
        return;
      }
      const request = httpsRequest(
        url,
        {
          method: init.method ?? (input instanceof Request ? input.method : 'GET'),
          headers: Object.fromEntries(headers),
          agent,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            signal?.removeEventListener('abort', onAbort);
            const status = response.statusCode ?? 0;
            const responseHeaders = new Headers();
            for (const [name, value] of Object.entries(response.headers)) {
              if (value === undefined) continue;
              for (const each of Array.isArray(value) ? value : [value]) {
                responseHeaders.append(name, each);
              }
            }
            resolve(
              new Response(NULL_BODY_STATUSES.has(status) ? null : Buffer.concat(chunks), {
                status,
                statusText: response.statusMessage ?? '',
                headers: responseHeaders,
              }),
            );
          });
        },
      );
      const onAbort = (): void => {
        request.destroy(abortError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      request.on('error', (error) => {
        signal?.removeEventListener('abort', onAbort);
        reject(
          signal?.aborted === true ? abortError() : new TypeError('fetch failed', { cause: error }),
        );
      });
      request.end(body);
    });
  };
}
