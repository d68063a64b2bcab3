import { ManualClock } from '../../src/clock.js';
import { defaultConfig } from '../../src/config/load.js';
import type { VoiceConfig } from '../../src/config/types.js';
import type { CallContext } from '../../src/policy/security-enforcer.js';
import type { SecurityEventFields, SecurityEventName } from '../../src/telemetry/security-log.js';
import { SecurityLog } from '../../src/telemetry/security-log.js';

/** The default voice policy with some settings changed. */
export function voiceWith(changes: Partial<VoiceConfig> = {}): VoiceConfig {
  return { ...defaultConfig().voice, ...changes };
}

/** A call from `userId` in `roomId` that meets the E2EE and TLS requirements. */
export function callFrom(
  userId = '@alice:example.org',
  roomId = '!room:example.org',
  extra: Partial<CallContext> = {},
): CallContext {
  return {
    callId: `call-${Math.random().toString(36).slice(2)}`,
    userId,
    roomId,
    signalingEncrypted: true,
    signalingTls: true,
    ...extra,
  };
}

/** A silent security log that remembers every event it hears. */
export function recordingLog(): {
  log: SecurityLog;
  events: Array<{ event: SecurityEventName; fields: SecurityEventFields }>;
} {
  const log = SecurityLog.silent();
  const events: Array<{ event: SecurityEventName; fields: SecurityEventFields }> = [];
  log.listen((event, fields) => events.push({ event, fields }));
  return { log, events };
}

export { ManualClock };
