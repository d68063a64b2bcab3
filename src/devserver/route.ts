import type { Device } from './accounts.js';
import type { Homeserver } from './homeserver.js';
import type { JsonObject } from './json-input.js';

/** The HTTP methods routes answer. */
export type RouteMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** What a handler is given about the request it answers. */
export interface RouteRequest {
  readonly hs: Homeserver;
  /** Path parameters by name, already percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The JSON body; `{}` for requests without one. */
  readonly body: JsonObject;
  /**
   * Names the request regardless of the API version in its path: method, route and
   * parameters. Transaction ids are remembered under it.
   */
  readonly key: string;
  /** A signal that aborts when the client goes away; made on first call (few need it). */
  readonly signal: () => AbortSignal;
}

/** A request of a route that needs an access token, with the device it belongs to. */
export interface AuthedRouteRequest extends RouteRequest {
  readonly device: Device;
}

/** A handler's answer: an HTTP status and a JSON body. */
export interface RouteReply {
  readonly status: number;
  readonly body: unknown;
}

/** A 200 answer. */
export function ok(body: unknown): RouteReply {
  return { status: 200, body };
}

/** One endpoint. */
export type Route =
  | {
      readonly method: RouteMethod;
      /** Path under the client API prefix (`/_matrix/client/v3`), `{name}` for a parameter. */
      readonly path: string;
      /** True for a path from the root rather than under the client API prefix. */
      readonly absolute?: boolean;
      readonly auth: false;
      readonly handle: (request: RouteRequest) => RouteReply | Promise<RouteReply>;
    }
  | {
      readonly method: RouteMethod;
      readonly path: string;
      readonly absolute?: boolean;
      readonly auth: true;
      readonly handle: (request: AuthedRouteRequest) => RouteReply | Promise<RouteReply>;
    };
