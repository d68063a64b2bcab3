import { performance } from 'node:perf_hooks';

import { parseSyncFilter, type SyncFilter } from './filters.js';
import type { Homeserver } from './homeserver.js';
import { isJsonObject } from './json-input.js';
import { invalidParam, MatrixError } from './matrix-error.js';
import { ok, type Route } from './route.js';
import { parseToken } from './stream-token.js';
import { buildSync } from './sync-response.js';

/** The longest a sync may wait, whatever `timeout` it asks for. */
const MAX_SYNC_TIMEOUT_MS = 10 * 60 * 1000;

/** The `filter` of a sync: a filter id of the user, or a filter as inline JSON. */
function syncFilter(hs: Homeserver, userId: string, text: string | null): SyncFilter {
  if (text === null) return parseSyncFilter({});
  let json: unknown;
  if (text.trimStart().startsWith('{')) {
    try {
      json = JSON.parse(text);
    } catch {
      throw invalidParam(`'filter' is neither a filter id nor JSON: ${JSON.stringify(text)}`);
    }
  } else {
    json = hs.filters.get(userId, text);
    if (json === undefined) throw invalidParam(`'filter' names no filter of ${userId}: ${text}`);
  }
  if (!isJsonObject(json)) throw invalidParam(`'filter' must be a JSON object`);
  try {
    return parseSyncFilter(json);
  } catch (error) {
    if (error instanceof MatrixError) throw invalidParam(`'filter': ${error.message}`);
    throw error;
  }
}

/** The `timeout` of a sync in milliseconds, checked. */
function timeoutParam(text: string | null): number {
  if (text === null) return 0;
  if (!/^\d{1,12}$/.test(text)) {
    throw invalidParam(`'timeout' must be a non-negative integer, got ${JSON.stringify(text)}`);
  }
  return Math.min(Number(text), MAX_SYNC_TIMEOUT_MS);
}

/** The `full_state` of a sync. */
function fullStateParam(text: string | null): boolean {
  if (text === null || text === 'false') return false;
  if (text === 'true') return true;
  throw invalidParam(`'full_state' must be true or false, got ${JSON.stringify(text)}`);
}

/**
 * `GET /sync`. With a `since` token and nothing new, it waits up to `timeout` for something
 * that concerns the user, then answers; an initial sync answers at once.
 */
export function syncRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/sync',
      auth: true,
      handle: async ({ hs, device, query, signal: signalOf }) => {
        const sinceText = query.get('since');
        const since =
          sinceText === null ? undefined : parseToken(sinceText, 'since', hs.stream.current);
        const request = {
          since,
          filter: syncFilter(hs, device.userId, query.get('filter')),
          fullState: fullStateParam(query.get('full_state')),
        };
        // Waiting uses the monotonic clock: the injected clock may be a test's manual one.
        const deadline = performance.now() + timeoutParam(query.get('timeout'));

        const signal = signalOf();
        let result = buildSync(hs, device, request);
        while (result.empty && since !== undefined && !signal.aborted && !hs.notifier.closed) {
          const remaining = deadline - performance.now();
          if (remaining <= 0) break;
          await hs.notifier.wait(device.userId, remaining, signal);
          result = buildSync(hs, device, request);
        }
        return ok(result.body);
      },
    },
  ];
}
