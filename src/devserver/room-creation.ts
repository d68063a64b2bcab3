import type { Homeserver } from './homeserver.js';
import { newRoomId } from './ids.js';
import {
  describeValue,
  optionalArray,
  optionalBoolean,
  optionalObject,
  optionalString,
  objectItem,
  requireString,
  stringItem,
  type JsonObject,
} from './json-input.js';
import { badJson, invalidParam, MatrixError } from './matrix-error.js';
import { memberContent, requireExistingUser } from './membership.js';
import { ROOM_VERSION, type Room } from './room.js';

/** The presets of `POST /createRoom`. */
const PRESETS = ['private_chat', 'trusted_private_chat', 'public_chat'] as const;
type Preset = (typeof PRESETS)[number];

/** A state event asked for in `initial_state`. */
interface InitialState {
  readonly type: string;
  readonly stateKey: string;
  readonly content: JsonObject;
}

/** A checked `POST /createRoom` body. */
interface CreateRoomRequest {
  readonly preset: Preset;
  readonly invite: string[];
  readonly initialState: InitialState[];
  readonly isDirect: boolean;
  readonly name: string | undefined;
  readonly topic: string | undefined;
  readonly alias: string | undefined;
  readonly creationContent: JsonObject;
  readonly powerLevelOverride: JsonObject;
}

/** Checks a createRoom body in full, before anything is created. */
function parseCreateRoom(hs: Homeserver, creator: string, body: JsonObject): CreateRoomRequest {
  const visibility = optionalString(body, 'visibility');
  if (visibility !== undefined && visibility !== 'public' && visibility !== 'private') {
    throw invalidParam(`'visibility' must be public or private, got ${describeValue(visibility)}`);
  }
  const preset =
    optionalString(body, 'preset') ?? (visibility === 'public' ? 'public_chat' : 'private_chat');
  if (!(PRESETS as readonly string[]).includes(preset)) {
    throw invalidParam(
      `'preset' must be one of ${PRESETS.join(', ')}, got ${describeValue(preset)}`,
    );
  }

  const version = optionalString(body, 'room_version');
  if (version !== undefined && version !== ROOM_VERSION) {
    throw new MatrixError(
      400,
      'M_UNSUPPORTED_ROOM_VERSION',
      `This server makes rooms of version ${ROOM_VERSION} only, not ${JSON.stringify(version)}`,
    );
  }

  const invite = optionalArray(body, 'invite', stringItem);
  invite.forEach((userId, index) => requireExistingUser(hs, userId, `invite[${index}]`));

  const initialState = optionalArray(body, 'initial_state', objectItem).map((event, index) => {
    const path = `initial_state[${index}]`;
    const type = requireString(event, 'type', `${path}.type`);
    if (type === 'm.room.create' || type === 'm.room.member') {
      throw invalidParam(`'${path}.type' cannot be ${type}`);
    }
    const content = optionalObject(event, 'content', `${path}.content`);
    if (content === undefined) throw badJson(`'${path}.content' is required`);
    const stateKey = optionalString(event, 'state_key', `${path}.state_key`) ?? '';
    if (stateKey.startsWith('@') && stateKey !== creator) {
      throw invalidParam(`'${path}.state_key' may only be a user id if it is the creator's`);
    }
    return { type, stateKey, content };
  });

  const aliasName = optionalString(body, 'room_alias_name');
  const alias = aliasName === undefined ? undefined : `#${aliasName}:${hs.serverName}`;
  if (aliasName !== undefined && (aliasName.length === 0 || /[:\s#]/.test(aliasName))) {
    throw invalidParam(`'room_alias_name' is not a valid alias name: ${describeValue(aliasName)}`);
  }
  if (alias !== undefined && hs.rooms.resolveAlias(alias) !== undefined) {
    throw new MatrixError(400, 'M_ROOM_IN_USE', `The alias ${alias} is taken`);
  }

  return {
    preset: preset as Preset,
    invite,
    initialState,
    isDirect: optionalBoolean(body, 'is_direct', false),
    name: optionalString(body, 'name'),
    topic: optionalString(body, 'topic'),
    alias,
    creationContent: optionalObject(body, 'creation_content') ?? {},
    powerLevelOverride: optionalObject(body, 'power_level_content_override') ?? {},
  };
}

/** The power levels a new room starts with. */
function initialPowerLevels(creator: string, request: CreateRoomRequest): JsonObject {
  const users: JsonObject = { [creator]: 100 };
  if (request.preset === 'trusted_private_chat') {
    for (const userId of request.invite) users[userId] = 100;
  }
  return {
    users,
    users_default: 0,
    events: {
      'm.room.name': 50,
      'm.room.power_levels': 100,
      'm.room.history_visibility': 100,
      'm.room.canonical_alias': 50,
      'm.room.avatar': 50,
      'm.room.tombstone': 100,
      'm.room.server_acl': 100,
      'm.room.encryption': 100,
    },
    events_default: 0,
    state_default: 50,
    ban: 50,
    kick: 50,
    redact: 50,
    invite: 0,
    notifications: { room: 50 },
    ...request.powerLevelOverride,
  };
}

/**
 * Creates a room as `POST /createRoom` does: the create event, the creator's join, power
 * levels, the preset's rules, `initial_state`, name and topic, then the invites. The whole
 * request is checked first, so a refused request leaves no half-made room behind.
 */
export function createRoom(hs: Homeserver, creator: string, body: JsonObject): Room {
  const request = parseCreateRoom(hs, creator, body);
  const room = hs.rooms.create(newRoomId(hs.serverName));
  const state = (type: string, content: JsonObject, stateKey = ''): void => {
    hs.rooms.append(room, { sender: creator, type, stateKey, content });
  };

  state('m.room.create', { ...request.creationContent, creator, room_version: ROOM_VERSION });
  hs.rooms.append(room, {
    sender: creator,
    type: 'm.room.member',
    stateKey: creator,
    content: memberContent(hs, creator, 'join'),
  });
  state('m.room.power_levels', initialPowerLevels(creator, request));
  if (request.alias !== undefined) {
    hs.rooms.addAlias(request.alias, room.roomId);
    state('m.room.canonical_alias', { alias: request.alias });
  }
  const isPublic = request.preset === 'public_chat';
  state('m.room.join_rules', { join_rule: isPublic ? 'public' : 'invite' });
  state('m.room.history_visibility', { history_visibility: 'shared' });
  if (!isPublic) state('m.room.guest_access', { guest_access: 'can_join' });

  for (const event of request.initialState) state(event.type, event.content, event.stateKey);
  if (request.name !== undefined) state('m.room.name', { name: request.name });
  if (request.topic !== undefined) state('m.room.topic', { topic: request.topic });

  for (const invitee of request.invite) {
    hs.rooms.append(room, {
      sender: creator,
      type: 'm.room.member',
      stateKey: invitee,
      content: memberContent(hs, invitee, 'invite', request.isDirect ? { is_direct: true } : {}),
    });
  }
  return room;
}
