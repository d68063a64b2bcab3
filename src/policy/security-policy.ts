import { policyVersion } from '../config/policy-version.js';
import type { VoiceConfig } from '../config/types.js';
import { AccessList } from './access-list.js';
import type { DenialReason } from './denial.js';

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

  /**
   * What the access lists say of a caller in a room, blocks before allows; undefined when they
   * allow it. Ids must be valid and passed through normalizeId.
   */
  accessRefusal(user: string, room: string): DenialReason | undefined {
    if (this.blockedUsers.matches(user)) return 'user_blocked';
    if (this.blockedRooms.matches(room)) return 'room_blocked';
    if (!this.allowedUsers.isEmpty && !this.allowedUsers.matches(user))
      return 'user_not_in_allowlist';
    if (!this.allowedRooms.isEmpty && !this.allowedRooms.matches(room))
      return 'room_not_in_allowlist';
    return undefined;
  }

  /** What the room lists alone say of a room (normalized); undefined when they allow it. */
  roomRefusal(room: string): 'room_blocked' | 'room_not_in_allowlist' | undefined {
    if (this.blockedRooms.matches(room)) return 'room_blocked';
    if (!this.allowedRooms.isEmpty && !this.allowedRooms.matches(room))
      return 'room_not_in_allowlist';
    return undefined;
  }
}
