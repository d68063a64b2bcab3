/**
 * An agent setting that cannot work, found when the agent factory is made (never during a
 * call). `code` is always `invalid_option`; the message names the option and its value.
 */
export class AgentOptionError extends Error {
  /** What went wrong, as a stable code. */
  readonly code = 'invalid_option';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AgentOptionError';
  }
}
