/**
 * The effective configuration. Keys are the config file's own keys, so that a setting has
 * one name in the file, the code, the logs and the metrics. Durations are milliseconds.
 */
export interface Config {
  voice: VoiceConfig;
  matrix: MatrixConfig;
  media: MediaConfig;
  agent: AgentConfig;
  audit: AuditConfig;
  admin: AdminConfig;
  log: LogConfig;
}

/** The security policy and the budgets: the `[voice]` section. */
export interface VoiceConfig {
  max_concurrent_calls: number;
  /** A ceiling no budget or TTL setting can extend; always a hard stop. */
  max_call_duration: number;
  allowed_users: string[];
  blocked_users: string[];
  allowed_rooms: string[];
  blocked_rooms: string[];
  require_e2ee: boolean;
  require_signaling_tls: boolean;
  /** Admitted calls per user per window; 0 turns the rate limit off. */
  rate_limit_calls: number;
  rate_limit_window: number;
  /** Live calls one user may hold at once; 0 means no cap beyond max_concurrent_calls. */
  max_calls_per_user: number;
  /** Live calls one room may hold at once; 0 means no cap beyond max_concurrent_calls. */
  max_calls_per_room: number;
  /** Calls in rooms of more than two members: refused (the default) or answered. */
  group_calls: 'refuse' | 'answer';
  default_token_limit: number;
  default_duration_limit: number;
  warning_threshold: number;
  hard_stop: boolean;
  ttl: TtlConfig;
}

/** Session lifetimes: the `[voice.ttl]` section. */
export interface TtlConfig {
  /** Idle lifetime: a session expires after this long without media activity. */
  default_ttl: number;
  /** Absolute lifetime from the session's start. */
  max_ttl: number;
  enforcement_interval: number;
  warning_threshold: number;
  hard_stop: boolean;
}

/** The bot account and its homeserver: the `[matrix]` section. */
export interface MatrixConfig {
  homeserver_url: string;
  user_id: string;
  /** Secret. Also read from VOICEBRIDGE_ACCESS_TOKEN or access_token_file. */
  access_token: string;
  access_token_file: string;
  /**
   * Secret, used once to log in when no access token is given; the token and device id it
   * yields are kept in store_dir. Also read from VOICEBRIDGE_PASSWORD or password_file.
   */
  password: string;
  password_file: string;
  /** Extra CA certificates (PEM) trusted for the homeserver's TLS. */
  ca_file: string;
  /** Where the bot keeps its session, sync position and encryption store (mode 0700). */
  store_dir: string;
}

/** The media engine: the `[media]` section. */
export interface MediaConfig {
  /** Media worker threads; 0 picks cores - 1 (at least 1). */
  workers: number;
  tick_ms: number;
  bind_address: string;
  port_range_begin: number;
  port_range_end: number;
  /** ICE servers as URLs (stun:, turn:, turns:). Empty by default: no outside server. */
  ice_servers: string[];
  /** Use the homeserver's TURN servers (`/voip/turnServer`, refreshed before they expire). */
  ice_servers_from_homeserver: boolean;
}

/** Which agent talks to callers: the `[agent]` section. */
export interface AgentConfig {
  kind: 'echo' | 'websocket';
  url: string;
  echo_delay: number;
  /** Tokens the echo agent reports per second of voiced audio. */
  echo_tokens_per_second: number;
  /** Extra CA certificates (PEM) trusted for a wss:// agent. */
  ca_file: string;
  /** How long a WebSocket agent may take to accept a call's connection. */
  connect_timeout: number;
}

/** The audit store: the `[audit]` section. */
export interface AuditConfig {
  path: string;
}

/** The admin HTTP server: the `[admin]` section. */
export interface AdminConfig {
  enabled: boolean;
  bind_address: string;
  port: number;
  /** Secret. Also read from VOICEBRIDGE_ADMIN_TOKEN or token_file. */
  token: string;
  token_file: string;
}

/** Logging: the `[log]` section. */
export interface LogConfig {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
}
