/** How a synthetic call ended. */
export type CallEndReason =
  /** The caller hung up when its time was up: the planned ending. */
  | 'caller_hangup'
  /** The caller was told to stop early (the fleet is stopping, or `hangup` was asked). */
  | 'stopped'
  /** The bridge sent `m.call.hangup`; `remoteReason` says why. */
  | 'bridge_hangup'
  /** The bridge refused the call (`m.call.reject`); `remoteReason` says why. */
  | 'rejected'
  /** No answer came in time. */
  | 'answer_timeout'
  /** Answered, but the audio track did not open, or no audio came back, in time. */
  | 'media_timeout'
  /** The WebRTC connection failed or closed on its own. */
  | 'transport_failed'
  /** Something else broke; `failure` says what. */
  | 'error';

/** ICE candidate handling as one caller saw it. */
export interface IceFigures {
  /** Candidates this caller gathered and sent. */
  localCandidates: number;
  /** Candidates the bridge sent (end-of-candidates not counted). */
  remoteCandidates: number;
  /** Of those, handed to ICE after the answer. */
  remoteCandidatesApplied: number;
  /** Of those, refused by the library. */
  remoteCandidatesRejected: number;
  /** From the invite to the bridge's first `m.call.candidates`, ms. */
  inviteToRemoteCandidatesMs: number | undefined;
  /** From the answer being set to the audio track opening (ICE plus DTLS), ms. */
  answerToConnectedMs: number | undefined;
  /** Encrypting and sending this caller's own candidates, ms. */
  candidatesSendMs: number | undefined;
}

/** Packets of one call as the caller counted them. */
export interface PacketFigures {
  /** RTP packets sent to the bridge. */
  sent: number;
  /** RTP packets received from the bridge. */
  received: number;
  /** Packets the bridge's sequence numbers say were sent to us. */
  expected: number;
  /** Of those, never received. */
  lost: number;
}

/** What one synthetic call measured. Times are milliseconds; epochs are `Date.now()` values. */
export interface CallReport {
  callId: string;
  userId: string;
  roomId: string;
  /** True when the call was answered, audio came back, and it ended with the caller's hangup. */
  ok: boolean;
  endReason: CallEndReason;
  /** The bridge's own reason for a hangup or reject (`org.voicebridge.reason`, else `reason`). */
  remoteReason: string | undefined;
  /** What went wrong, for a call that did not end as planned. */
  failure: string | undefined;
  /** When the call was placed (epoch ms). */
  startedAt: number;
  /** When the invite started on its way, before it was encrypted (epoch ms). */
  inviteSentAt: number | undefined;
  /**
   * From the encrypted invite being handed to the homeserver to the sync answer that carries
   * the bridge's answer reaching the caller, ms: the homeserver's and the bridge's part of the
   * setup, without the caller's own encrypting and decrypting.
   */
  inviteToAnswerMs: number | undefined;
  /** From placing the call (before encrypting the invite) to the answer decrypted, ms. */
  placedToAnswerMs: number | undefined;
  /** From the encrypted invite being handed to the homeserver to the first RTP back, ms. */
  inviteToFirstMediaMs: number | undefined;
  /** Encrypting the invite, ms. */
  inviteEncryptMs: number | undefined;
  /** Sending the encrypted invite (the homeserver's PUT round trip), ms. */
  inviteSendMs: number | undefined;
  /** From the sync answer carrying the answer event to it being decrypted and handled, ms. */
  answerDecryptMs: number | undefined;
  ice: IceFigures;
  packets: PacketFigures;
  /** From the invite to the end of the call, ms. */
  durationMs: number;
}

/** The report of a call that failed before it could be placed, or was never reported on. */
export function failedCallReport(
  callId: string,
  userId: string,
  roomId: string,
  failure: string,
): CallReport {
  return {
    callId,
    userId,
    roomId,
    ok: false,
    endReason: 'error',
    remoteReason: undefined,
    failure,
    startedAt: Date.now(),
    inviteSentAt: undefined,
    inviteToAnswerMs: undefined,
    placedToAnswerMs: undefined,
    inviteToFirstMediaMs: undefined,
    inviteEncryptMs: undefined,
    inviteSendMs: undefined,
    answerDecryptMs: undefined,
    ice: {
      localCandidates: 0,
      remoteCandidates: 0,
      remoteCandidatesApplied: 0,
      remoteCandidatesRejected: 0,
      inviteToRemoteCandidatesMs: undefined,
      answerToConnectedMs: undefined,
      candidatesSendMs: undefined,
    },
    packets: { sent: 0, received: 0, expected: 0, lost: 0 },
    durationMs: 0,
  };
}
