import { MatrixError } from './matrix-error.js';
import type { Route } from './route.js';

/** The client API prefixes whose endpoints this server answers alike. */
const CLIENT_PREFIXES = ['/_matrix/client/v3', '/_matrix/client/r0'];

/** A route with its path split into segments; `null` marks a parameter. */
interface CompiledRoute {
  readonly route: Route;
  readonly segments: readonly (string | null)[];
  readonly names: readonly string[];
}

/** A request path matched to its route. */
export interface RouteMatch {
  readonly route: Route;
  readonly params: Record<string, string>;
}

/** Splits a pattern such as `/rooms/{roomId}/join` into literal and parameter segments. */
function compile(route: Route, prefix: string): CompiledRoute {
  const names: string[] = [];
  const segments = `${prefix}${route.path}`
    .split('/')
    .slice(1)
    .map((segment) => {
      const parameter = /^\{(\w+)\}$/.exec(segment);
      if (parameter === null) return segment;
      names.push(parameter[1]!);
      return null;
    });
  return { route, segments, names };
}

/**
 * Finds the route of a request path. Paths are matched segment by segment, each segment
 * percent-decoded on its own, so an encoded '/' inside a room id or state key stays inside.
 */
export class Router {
  /** Every route under every prefix it answers at. */
  readonly #compiled: CompiledRoute[] = [];

  constructor(routes: readonly Route[]) {
    for (const route of routes) {
      const prefixes = route.absolute === true ? [''] : CLIENT_PREFIXES;
      for (const prefix of prefixes) this.#compiled.push(compile(route, prefix));
    }
  }

  /**
   * The route for `method` and `pathname`. Throws M_UNRECOGNIZED: 404 for a path no route
   * has, 405 for a path that routes have but not with this method.
   */
  match(method: string, pathname: string): RouteMatch {
    const raw = pathname.split('/').slice(1);
    let decoded: string[];
    try {
      decoded = raw.map((segment) => decodeURIComponent(segment));
    } catch {
      throw new MatrixError(400, 'M_UNRECOGNIZED', 'The path is not percent-encoded correctly');
    }

    let pathKnown = false;
    for (const compiled of this.#compiled) {
      if (!segmentsMatch(compiled.segments, decoded)) continue;
      pathKnown = true;
      if (compiled.route.method !== method) continue;
      const params: Record<string, string> = {};
      let name = 0;
      compiled.segments.forEach((segment, index) => {
        if (segment === null) params[compiled.names[name++]!] = decoded[index]!;
      });
      return { route: compiled.route, params };
    }
    if (pathKnown) throw new MatrixError(405, 'M_UNRECOGNIZED', 'Unrecognized request');
    throw new MatrixError(404, 'M_UNRECOGNIZED', 'Unrecognized request');
  }
}

function segmentsMatch(pattern: readonly (string | null)[], path: readonly string[]): boolean {
  if (pattern.length !== path.length) return false;
  return pattern.every((segment, index) => segment === null || segment === path[index]);
}
