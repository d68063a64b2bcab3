/** The VoIP event types the bridge handles. */
export const CALL_EVENT_TYPES = [
  'm.call.invite',
  'm.call.candidates',
  'm.call.answer',
  'm.call.select_answer',
  'm.call.negotiate',
  'm.call.reject',
  'm.call.hangup',
] as const;

/** A VoIP event type. */
export type CallEventType = (typeof CALL_EVENT_TYPES)[number];

/** Fields every call event has once checked. `version` 0 peers send no party id. */
interface CallEventBase {
  callId: string;
  partyId: string | undefined;
  version: 0 | 1;
}

/** A remote ICE candidate as the event carries it. */
export interface CallCandidate {
  candidate: string;
  sdpMid?: string;
  sdpMLineIndex?: number;
}

/** A checked call event. */
export type CallEvent =
  | (CallEventBase & {
      type: 'm.call.invite';
      offerSdp: string;
      lifetime: number;
      invitee: string | undefined;
    })
  | (CallEventBase & { type: 'm.call.candidates'; candidates: CallCandidate[] })
  | (CallEventBase & { type: 'm.call.answer' })
  | (CallEventBase & { type: 'm.call.select_answer'; selectedPartyId: string })
  | (CallEventBase & {
      type: 'm.call.negotiate';
      sdp: string;
      descriptionType: string;
      lifetime: number;
    })
  | (CallEventBase & { type: 'm.call.reject' })
  | (CallEventBase & { type: 'm.call.hangup'; reason: string });

/** Why a call event was refused: the field and what was wrong. */
export class CallEventError extends Error {
  readonly code = 'invalid_call_event';
  constructor(message: string) {
    super(message);
    this.name = 'CallEventError';
  }
}

/** The longest SDP accepted, in characters. */
const MAX_SDP = 64 * 1024;
/** The most candidates one event may carry. */
const MAX_CANDIDATES = 100;
/** Ids longer than this are refused; real clients use short random strings. */
const MAX_ID = 255;

/** True when `type` is a call event type the bridge handles. */
export function isCallEventType(type: unknown): type is CallEventType {
  return typeof type === 'string' && (CALL_EVENT_TYPES as readonly string[]).includes(type);
}

/** Checks a call event's content; throws CallEventError naming the field and value. */
export function parseCallEvent(type: CallEventType, content: unknown): CallEvent {
  if (typeof content !== 'object' || content === null || Array.isArray(content)) {
    throw new CallEventError(`${type}: content must be an object`);
  }
  const c = content as Record<string, unknown>;
  const base: CallEventBase = {
    callId: id(type, 'call_id', c.call_id),
    partyId: c.party_id === undefined ? undefined : id(type, 'party_id', c.party_id),
    version: versionOf(c.version),
  };

  switch (type) {
    case 'm.call.invite': {
      const offer = object(type, 'offer', c.offer);
      if (offer.type !== 'offer')
        throw new CallEventError(`${type}: offer.type must be "offer", got ${show(offer.type)}`);
      return {
        ...base,
        type,
        offerSdp: sdp(type, 'offer.sdp', offer.sdp),
        lifetime: lifetime(type, c.lifetime),
        invitee: c.invitee === undefined ? undefined : id(type, 'invitee', c.invitee),
      };
    }
    case 'm.call.candidates': {
      if (!Array.isArray(c.candidates))
        throw new CallEventError(`${type}: candidates must be a list`);
      if (c.candidates.length > MAX_CANDIDATES) {
        throw new CallEventError(
          `${type}: candidates holds ${c.candidates.length}, at most ${MAX_CANDIDATES}`,
        );
      }
      return {
        ...base,
        type,
        candidates: c.candidates.map((entry, i) => candidate(type, i, entry)),
      };
    }
    case 'm.call.answer':
    case 'm.call.reject':
      return { ...base, type };
    case 'm.call.select_answer':
      return { ...base, type, selectedPartyId: id(type, 'selected_party_id', c.selected_party_id) };
    case 'm.call.negotiate': {
      const description = object(type, 'description', c.description);
      return {
        ...base,
        type,
        sdp: sdp(type, 'description.sdp', description.sdp),
        descriptionType: typeof description.type === 'string' ? description.type : '',
        lifetime: lifetime(type, c.lifetime),
      };
    }
    case 'm.call.hangup': {
      // Reasons outside the spec's list are real (replaced, signalling_timeout, ...): keep them.
      const reason = c.reason === undefined ? 'user_hangup' : c.reason;
      if (typeof reason !== 'string' || reason.length === 0 || reason.length > 100) {
        throw new CallEventError(`${type}: reason must be a short string, got ${show(c.reason)}`);
      }
      return { ...base, type, reason };
    }
  }
}

function versionOf(value: unknown): 0 | 1 {
  // 0 is the old integer version; "1" is current; anything else is treated as "1".
  return value === 0 || value === '0' ? 0 : 1;
}

function id(type: string, field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_ID || /\p{Cc}/u.test(value)) {
    throw new CallEventError(
      `${type}: ${field} must be a short string without controls, got ${show(value)}`,
    );
  }
  return value;
}

function object(type: string, field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CallEventError(`${type}: ${field} must be an object, got ${show(value)}`);
  }
  return value as Record<string, unknown>;
}

function sdp(type: string, field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_SDP) {
    throw new CallEventError(
      `${type}: ${field} must be an SDP string of at most ${MAX_SDP} characters`,
    );
  }
  return value;
}

function lifetime(type: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new CallEventError(
      `${type}: lifetime must be a positive number of ms, got ${show(value)}`,
    );
  }
  return value;
}

function candidate(type: string, index: number, value: unknown): CallCandidate {
  const entry = object(type, `candidates[${index}]`, value);
  if (typeof entry.candidate !== 'string' || entry.candidate.length > 1_024) {
    throw new CallEventError(`${type}: candidates[${index}].candidate must be a string`);
  }
  const out: CallCandidate = { candidate: entry.candidate };
  if (typeof entry.sdpMid === 'string') out.sdpMid = entry.sdpMid;
  if (typeof entry.sdpMLineIndex === 'number') out.sdpMLineIndex = entry.sdpMLineIndex;
  return out;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
