import { normalizeId, serverNameOf } from '../config/matrix-id.js';

/**
 * A list of Matrix ids and whole-server patterns (`@*:example.org`, `!*:example.org`).
 * Server names are compared without case (they are DNS names); the rest of an id exactly.
 */
export class AccessList {
  /** Exact ids, with their server part lower-cased. */
  readonly #ids = new Set<string>();
  /** Server names whose every id matches, lower-cased. */
  readonly #servers = new Set<string>();
  /** The same servers as id suffixes (':' + server), tried one by one while there are few. */
  readonly #suffixes: string[] = [];

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      if (entry.startsWith('@*:') || entry.startsWith('!*:')) {
        const server = entry.slice(3).toLowerCase();
        if (!this.#servers.has(server)) this.#suffixes.push(`:${server}`);
        this.#servers.add(server);
      } else {
        this.#ids.add(normalizeId(entry));
      }
    }
  }

  /** True when the list has no entries (an empty allow list allows everyone). */
  get isEmpty(): boolean {
    return this.#ids.size === 0 && this.#servers.size === 0;
  }

  /** True when `id` is listed or its server is. `id` must be valid and passed through normalizeId. */
  matches(id: string): boolean {
    if (this.#suffixes.length > 0 && this.#matchesServer(id)) return true;
    return this.#ids.has(id);
  }

  #matchesServer(id: string): boolean {
    // A few suffix tests cost less than cutting the server name out of every id.
    if (this.#suffixes.length <= 8) {
      const colon = id.indexOf(':');
      for (const suffix of this.#suffixes) {
        if (id.length - colon === suffix.length && id.endsWith(suffix)) return true;
      }
      return false;
    }
    const server = serverNameOf(id);
    return server !== undefined && this.#servers.has(server);
  }
}
