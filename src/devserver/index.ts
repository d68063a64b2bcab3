export { DevServer, startDevServer, type DevServerStats } from './dev-server.js';
export type {
  DevServerLog,
  DevServerLogEvent,
  DevServerLogLevel,
  DevServerOptions,
} from './dev-server-options.js';
export type { SendRateLimit } from './send-rate-limiter.js';
export { createTrustingFetch, type FetchFunction } from './trusting-fetch.js';
