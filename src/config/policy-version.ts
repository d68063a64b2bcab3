import { createHash } from 'node:crypto';

import { normalizeId } from './matrix-id.js';
import type { VoiceConfig } from './types.js';

/**
 * A stable hash of the effective policy: the same settings give the same version whatever
 * the key order in the file or the order of list entries. Audit records carry it.
 */
export function policyVersion(voice: VoiceConfig): string {
  // Ids that differ only in the case of their server name are the same id to the policy.
  const lists = {
    allowed_users: voice.allowed_users.map(normalizeId),
    blocked_users: voice.blocked_users.map(normalizeId),
    allowed_rooms: voice.allowed_rooms.map(normalizeId),
    blocked_rooms: voice.blocked_rooms.map(normalizeId),
  };
  return createHash('sha256')
    .update(canonicalJson({ ...voice, ...lists }))
    .digest('hex')
    .slice(0, 16);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    const items = value.map(canonicalJson);
    return `[${items.sort().join(',')}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map(
        (key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`,
      );
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}
