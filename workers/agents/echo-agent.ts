import {
  FRAME_SAMPLES,
  type Agent,
  type AgentContext,
  type AgentEvents,
  type AgentFactory,
} from './agent.js';

/** Settings of the echo agent. */
export interface EchoAgentOptions {
  /** How late the caller's audio is played back, in ms (rounded to whole 20 ms frames). */
  delayMs: number;
  /** Tokens counted per second of voiced audio, each way. */
  tokensPerSecond: number;
  /** The model name reported with usage. */
  model?: string;
}

const FRAME_MS = 20;
/** Usage is reported once per second of audio heard. */
const REPORT_EVERY_FRAMES = 50;

/**
 * The built-in agent: plays the caller's audio back after a delay and reports token usage
 * for voiced audio at a fixed rate, so budgets can be exercised with no outside service.
 */
class EchoAgent implements Agent {
  /** Frames waiting to be played back, as a ring of reused buffers. */
  readonly #line: Int16Array[];
  /** Whether each frame in the line was voiced. */
  readonly #voiced: boolean[];
  /** Frames heard so far. */
  #heard = 0;
  /** Frames spoken so far. */
  #spoken = 0;
  /** Tokens earned and not yet reported, in thousandths so that sums stay exact. */
  #pendingIn = 0;
  #pendingOut = 0;
  /** Thousandths of a token per voiced frame. */
  readonly #milliTokensPerFrame: number;
  readonly #model: string;
  readonly #events: AgentEvents;
  #closed = false;

  constructor(options: EchoAgentOptions, events: AgentEvents) {
    const delayFrames = Math.max(0, Math.round(options.delayMs / FRAME_MS));
    this.#line = Array.from({ length: delayFrames + 1 }, () => new Int16Array(FRAME_SAMPLES));
    this.#voiced = new Array<boolean>(delayFrames + 1).fill(false);
    this.#milliTokensPerFrame = Math.round(options.tokensPerSecond * FRAME_MS);
    this.#model = options.model ?? 'echo';
    this.#events = events;
  }

  hear(frame: Int16Array, voiced: boolean): void {
    if (this.#closed) return;
    const at = this.#heard % this.#line.length;
    (this.#line[at] as Int16Array).set(frame.subarray(0, FRAME_SAMPLES));
    this.#voiced[at] = voiced;
    this.#heard += 1;
    if (voiced) this.#pendingIn += this.#milliTokensPerFrame;
    if (this.#heard % REPORT_EVERY_FRAMES === 0) this.#report();
  }

  speak(): Int16Array | undefined {
    // The frame heard `delay` frames ago, once that many have been heard.
    if (this.#closed || this.#heard - this.#spoken < this.#line.length) return undefined;
    const at = this.#spoken % this.#line.length;
    this.#spoken += 1;
    if (this.#voiced[at] === true) this.#pendingOut += this.#milliTokensPerFrame;
    return this.#line[at];
  }

  close(): void {
    if (this.#closed) return;
    this.#report();
    this.#closed = true;
  }

  #report(): void {
    const inputTokens = Math.floor(this.#pendingIn / 1_000);
    const outputTokens = Math.floor(this.#pendingOut / 1_000);
    if (inputTokens === 0 && outputTokens === 0) return;
    this.#pendingIn -= inputTokens * 1_000;
    this.#pendingOut -= outputTokens * 1_000;
    this.#events.onUsage({ inputTokens, outputTokens, model: this.#model });
  }
}

/** The echo agent's factory for the given settings. */
export function createEchoAgent(options: EchoAgentOptions): AgentFactory {
  return (_context: AgentContext, events: AgentEvents) => new EchoAgent(options, events);
}
