import { AuditStore } from '../../src/audit/audit-store.js';
import { createPolicyCore, type PolicyCore } from '../../src/calls/policy-core.js';
import type { VoiceConfig } from '../../src/config/types.js';
import { ManualClock, recordingLog, voiceWith } from '../policy/helpers.js';

/** A policy core on a manual clock, with a real in-memory audit store and recorded events. */
export function coreWith(changes: Partial<VoiceConfig> = {}) {
  const clock = new ManualClock();
  const { log, events } = recordingLog();
  const audit = AuditStore.open(':memory:');
  const core: PolicyCore = createPolicyCore(voiceWith(changes), {
    clock: clock.now,
    log,
    audit,
    callee: '@bridge:example.org',
  });
  return { ...core, clock, events, audit, log };
}
