import { accountDataRoutes } from './routes-account-data.js';
import { authRoutes } from './routes-auth.js';
import { discoveryRoutes } from './routes-discovery.js';
import { eventRoutes } from './routes-events.js';
import { keyRoutes } from './routes-keys.js';
import { roomRoutes } from './routes-rooms.js';
import { syncRoutes } from './routes-sync.js';
import type { Route } from './route.js';

/** Every endpoint of the development homeserver. `baseUrl` gives the server's own URL. */
export function allRoutes(baseUrl: () => string): Route[] {
  return [
    ...discoveryRoutes(baseUrl),
    ...authRoutes(baseUrl),
    ...accountDataRoutes(),
    ...roomRoutes(),
    ...eventRoutes(),
    ...syncRoutes(),
    ...keyRoutes(),
  ];
}
