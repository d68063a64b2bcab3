import { policyVersion } from '../config/policy-version.js';
import type { VoiceConfig } from '../config/types.js';
import { AccessList } from './access-list.js';

/**
 * One version of the security policy, fixed once built: the access lists ready to match,
 * the limits, and the version hash. A reload builds a new one; live calls keep theirs.
 */
export class SecurityPolicy {
  /** The settings this policy was built from. */
  readonly voice: Readonly<VoiceConfig>;
  /** Stable hash of the settings. */
  readonly version: string;
  readonly allowedUsers: AccessList;
  readonly blockedUsers: AccessList;
  readonly allowedRooms: AccessList;
  readonly blockedRooms: AccessList;

  constructor(voice: VoiceConfig) {
    this.voice = structuredClone(voice);
    this.version = policyVersion(voice);
    this.allowedUsers = new AccessList(voice.allowed_users);
    this.blockedUsers = new AccessList(voice.blocked_users);
    this.allowedRooms = new AccessList(voice.allowed_rooms);
    this.blockedRooms = new AccessList(voice.blocked_rooms);
  }
}
