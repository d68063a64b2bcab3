import type { MatrixClient } from './matrix-client.js';

/** What `/voip/turnServer` answers. */
interface TurnServerAnswer {
  username?: unknown;
  password?: unknown;
  uris?: unknown;
  ttl?: unknown;
}

/** Refreshed this long before the credentials expire, at the latest. */
const REFRESH_MARGIN = 0.8;
/** Asked again after a failure or an empty answer. */
const RETRY_MS = 5 * 60_000;

/**
 * ICE server URLs from an answer of `/voip/turnServer`, in the form the WebRTC library takes
 * (`turn:user:password@host:port?transport=udp`). URIs that are not turn(s)/stun(s) are left
 * out, and so is everything when the answer is not well formed.
 */
export function iceServersFrom(answer: unknown): { servers: string[]; ttlMs: number } {
  const a = (typeof answer === 'object' && answer !== null ? answer : {}) as TurnServerAnswer;
  if (!Array.isArray(a.uris) || typeof a.username !== 'string' || typeof a.password !== 'string') {
    return { servers: [], ttlMs: 0 };
  }
  const credentials = `${encodeURIComponent(a.username)}:${encodeURIComponent(a.password)}@`;
  const servers = a.uris
    .filter((uri): uri is string => typeof uri === 'string')
    .map((uri) => /^(turns?|stuns?):(.+)$/.exec(uri))
    .filter((match): match is RegExpExecArray => match !== null)
    .map(([, scheme, rest]) =>
      scheme?.startsWith('turn') === true ? `${scheme}:${credentials}${rest}` : `${scheme}:${rest}`,
    );
  const ttlMs = typeof a.ttl === 'number' && a.ttl > 0 ? a.ttl * 1_000 : 0;
  return { servers, ttlMs };
}

/**
 * The homeserver's TURN servers for new calls, asked for at start and again before the
 * credentials expire. Until an answer comes (or when the homeserver has none), the list is
 * empty and calls use host candidates only.
 */
export class HomeserverTurnServers {
  readonly #client: MatrixClient;
  #servers: string[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(client: MatrixClient) {
    this.#client = client;
  }

  /** The ICE server URLs to use for a call starting now. */
  current(): string[] {
    return this.#servers;
  }

  /** Asks now, then keeps the answer fresh. */
  async start(): Promise<void> {
    await this.#refresh();
  }

  /** Stops refreshing. */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #refresh(): Promise<void> {
    let next = RETRY_MS;
    try {
      const answer = await this.#client.raw('GET', '/_matrix/client/v3/voip/turnServer');
      const { servers, ttlMs } = iceServersFrom(answer);
      this.#servers = servers;
      if (ttlMs > 0) next = Math.max(10_000, ttlMs * REFRESH_MARGIN);
    } catch {
      // Keep what we had; calls still work with host candidates.
    }
    this.stop();
    this.#timer = setTimeout(() => void this.#refresh(), next);
    this.#timer.unref();
  }
}
