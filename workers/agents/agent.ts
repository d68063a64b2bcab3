/** Samples in one 20 ms frame of 48 kHz mono audio: the unit every agent hears and speaks. */
export const FRAME_SAMPLES = 960;
/** The sample rate of agent audio. */
export const SAMPLE_RATE = 48_000;

/** Who an agent is talking to. */
export interface AgentContext {
  callId: string;
  roomId: string;
  /** The caller's Matrix user id. */
  userId: string;
}

/** Tokens an agent reports having used since its last report. */
export interface AgentUsage {
  inputTokens: number;
  outputTokens: number;
  model: string;
}

/** What an agent tells the media loop. Called on the media worker's thread. */
export interface AgentEvents {
  /** The agent used tokens; they count against the call's budget. */
  onUsage(usage: AgentUsage): void;
  /** The agent ended the call. */
  onHangup(reason: string): void;
  /**
   * The agent failed (unreachable, malformed or unexpected message, protocol breach); the
   * call must end. `code` is stable, `message` names what was wrong.
   */
  onError(code: AgentErrorCode, message: string): void;
}

/** Why an agent failed. */
export type AgentErrorCode =
  | 'agent_unreachable'
  | 'agent_disconnected'
  | 'malformed_message'
  | 'oversized_message'
  | 'unexpected_message'
  | 'invalid_usage';

/**
 * One call's agent, driven by the media loop once per tick: `hear` gets the caller's frame,
 * `speak` gives the agent's next frame. Both run on the media worker's thread and must not
 * block. An agent keeps no reference to a frame it is given: the loop reuses the buffer.
 */
export interface Agent {
  /** The caller's latest 20 ms frame and whether it holds voice. */
  hear(frame: Int16Array, voiced: boolean): void;
  /** The agent's next 20 ms frame, or undefined when it has nothing to say this tick. */
  speak(): Int16Array | undefined;
  /** Ends the agent; `reason` is the call's end reason. Idempotent. */
  close(reason: string): void;
}

/** Makes the agent of one call. */
export type AgentFactory = (context: AgentContext, events: AgentEvents) => Agent;
