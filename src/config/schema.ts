import { isRoomId, isRoomPattern, isUserId, isUserPattern } from './matrix-id.js';

/** How one config key is read and checked. */
export type FieldSpec =
  | { kind: 'bool'; default: boolean }
  | { kind: 'int'; default: number; min: number; max: number }
  | { kind: 'ratio'; default: number }
  | { kind: 'duration'; default: string; min?: number; max?: string }
  | { kind: 'string'; default: string; secret?: boolean }
  | { kind: 'enum'; default: string; values: readonly string[] }
  | { kind: 'list'; default: string[]; item: ListItem };

/** What each entry of a list key must be. */
export type ListItem = 'user' | 'room' | 'ice_server';

/** A section maps keys to fields or to nested sections. */
export interface SectionSpec {
  [key: string]: FieldSpec | SectionSpec;
}

const int = (value: number, min: number, max = 2 ** 31 - 1): FieldSpec => ({
  kind: 'int',
  default: value,
  min,
  max,
});

/** Every key the config file may hold, with its default. */
export const SCHEMA: SectionSpec = {
  voice: {
    max_concurrent_calls: int(10, 1, 100_000),
    max_call_duration: { kind: 'duration', default: '1h', min: 1 },
    allowed_users: { kind: 'list', default: [], item: 'user' },
    blocked_users: { kind: 'list', default: [], item: 'user' },
    allowed_rooms: { kind: 'list', default: [], item: 'room' },
    blocked_rooms: { kind: 'list', default: [], item: 'room' },
    require_e2ee: { kind: 'bool', default: true },
    require_signaling_tls: { kind: 'bool', default: true },
    rate_limit_calls: int(10, 0, 1_000_000),
    rate_limit_window: { kind: 'duration', default: '1h', min: 1 },
    max_calls_per_user: int(0, 0),
    max_calls_per_room: int(0, 0),
    group_calls: { kind: 'enum', default: 'refuse', values: ['refuse', 'answer'] },
    default_token_limit: int(100_000, 1, 1_000_000_000_000),
    default_duration_limit: { kind: 'duration', default: '30m', min: 1 },
    warning_threshold: { kind: 'ratio', default: 0.8 },
    hard_stop: { kind: 'bool', default: true },
    ttl: {
      default_ttl: { kind: 'duration', default: '10m', min: 1 },
      max_ttl: { kind: 'duration', default: '1h', min: 1 },
      enforcement_interval: { kind: 'duration', default: '30s', min: 10, max: '1h' },
      warning_threshold: { kind: 'ratio', default: 0.9 },
      hard_stop: { kind: 'bool', default: true },
    },
  },
  matrix: {
    homeserver_url: { kind: 'string', default: '' },
    user_id: { kind: 'string', default: '' },
    access_token: { kind: 'string', default: '', secret: true },
    access_token_file: { kind: 'string', default: '' },
    password: { kind: 'string', default: '', secret: true },
    password_file: { kind: 'string', default: '' },
    ca_file: { kind: 'string', default: '' },
    store_dir: { kind: 'string', default: 'voicebridge-store' },
  },
  media: {
    workers: int(0, 0, 256),
    tick_ms: int(20, 5, 100),
    bind_address: { kind: 'string', default: '127.0.0.1' },
    port_range_begin: int(0, 0, 65_535),
    port_range_end: int(0, 0, 65_535),
    ice_servers: { kind: 'list', default: [], item: 'ice_server' },
    ice_servers_from_homeserver: { kind: 'bool', default: false },
  },
  agent: {
    kind: { kind: 'enum', default: 'echo', values: ['echo', 'websocket'] },
    url: { kind: 'string', default: '' },
    echo_delay: { kind: 'duration', default: '200ms', max: '10s' },
    echo_tokens_per_second: int(10, 0, 1_000_000),
    ca_file: { kind: 'string', default: '' },
    connect_timeout: { kind: 'duration', default: '5s', min: 100, max: '60s' },
  },
  audit: {
    path: { kind: 'string', default: 'voicebridge-audit.db' },
  },
  admin: {
    enabled: { kind: 'bool', default: true },
    bind_address: { kind: 'string', default: '127.0.0.1' },
    port: int(9470, 0, 65_535),
    token: { kind: 'string', default: '', secret: true },
    token_file: { kind: 'string', default: '' },
  },
  log: {
    level: {
      kind: 'enum',
      default: 'info',
      values: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
    },
  },
};

/** True when a schema node is a field rather than a nested section. */
export function isField(node: FieldSpec | SectionSpec): node is FieldSpec {
  return typeof node.kind === 'string';
}

/** Checks one list entry; returns what it should have been, or undefined when it is fine. */
export function checkListItem(item: ListItem, entry: string): string | undefined {
  switch (item) {
    case 'user':
      return isUserId(entry) || isUserPattern(entry)
        ? undefined
        : 'a Matrix user id (@name:server) or a server pattern (@*:server)';
    case 'room':
      return isRoomId(entry) || isRoomPattern(entry)
        ? undefined
        : 'a Matrix room id (!id:server) or a server pattern (!*:server)';
    case 'ice_server':
      return /^(stun|stuns|turn|turns):[^\s]+$/.test(entry)
        ? undefined
        : 'an ICE server URL (stun:, stuns:, turn: or turns:)';
  }
}
