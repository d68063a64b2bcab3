import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

/** One admin request: status, body, and how long it took from send to the last byte, ms. */
export interface AdminAnswer {
  status: number;
  body: string;
  ms: number;
}

/** GETs from the bridge's admin server over one kept-alive connection. */
export class AdminClient {
  readonly #base: URL;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 2 });

  constructor(baseUrl: string) {
    this.#base = new URL(baseUrl);
  }

  /** GET `path`; rejects on a network failure or after `timeoutMs`. */
  get(path: string, timeoutMs = 10_000): Promise<AdminAnswer> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, this.#base), { agent: this.#agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - started,
          }),
        );
        res.on('error', reject);
      });
      req.setTimeout(timeoutMs, () =>
        req.destroy(new Error(`GET ${path}: no answer in ${timeoutMs} ms`)),
      );
      req.on('error', reject);
      req.end();
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
