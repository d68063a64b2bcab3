import { createHash } from 'node:crypto';

import type { VoiceConfig } from './types.js';

/**
 * A stable hash of the effective policy: the same settings give the same version whatever
 * the key order in the file or the order of list entries. Audit records carry it.
 */
export function policyVersion(voice: VoiceConfig): string {
  return createHash('sha256').update(canonicalJson(voice)).digest('hex').slice(0, 16);
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
