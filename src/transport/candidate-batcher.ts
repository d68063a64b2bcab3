/** A local ICE candidate as the signalling layer sends it (an `m.call.candidates` entry). */
export interface LocalCandidate {
  /** `candidate:...`, or '' for end-of-candidates. */
  candidate: string;
  /** The audio m-line's mid. */
  sdpMid: string;
  /** The audio m-line's index. */
  sdpMLineIndex: number;
}

/**
 * Collects local candidates for a short interval and delivers them in one batch, so a call
 * costs a few signalling events rather than one per candidate. Candidates that arrive after
 * a batch went out start the next one. Once gathering is complete and every candidate the
 * local description lists has been delivered, the last batch ends with an end-of-candidates
 * entry (an empty candidate string).
 */
export class CandidateBatcher {
  /** How long a batch collects before it is delivered, in milliseconds. */
  readonly #intervalMs: number;
  /** The mid every candidate is stamped with. */
  readonly #sdpMid: string;
  /** The m-line index every candidate is stamped with. */
  readonly #sdpMLineIndex: number;
  /** Where batches go. */
  readonly #deliver: (batch: LocalCandidate[]) => void;
  /** Candidates waiting for the next batch. */
  #pending: LocalCandidate[] = [];
  /** The timer of the batch being collected. */
  #timer: NodeJS.Timeout | undefined;
  /** Nothing is delivered before the answer is, so the far end never gets candidates first. */
  #held = true;
  /** Stopped batchers deliver nothing more. */
  #stopped = false;
  /** Candidates delivered so far. */
  #delivered = 0;
  /** How many candidates gathering produced in all, once it is complete. */
  #total: number | undefined;
  /** Whether end-of-candidates went out. */
  #ended = false;

  constructor(
    intervalMs: number,
    sdpMid: string,
    sdpMLineIndex: number,
    deliver: (batch: LocalCandidate[]) => void,
  ) {
    this.#intervalMs = intervalMs;
    this.#sdpMid = sdpMid;
    this.#sdpMLineIndex = sdpMLineIndex;
    this.#deliver = deliver;
  }

  /** Adds a candidate line from the library (`a=candidate:...` or `candidate:...`). */
  add(line: string): void {
    if (this.#stopped) return;
    const candidate = line.startsWith('a=') ? line.slice(2) : line;
    this.#pending.push({ candidate, sdpMid: this.#sdpMid, sdpMLineIndex: this.#sdpMLineIndex });
    this.#schedule();
  }

  /**
   * Records that gathering is complete with `total` candidates in all. Candidates and
   * gathering states come through separate native queues, so some of those may still be
   * on their way: end-of-candidates waits for them.
   */
  complete(total: number): void {
    if (this.#stopped) return;
    this.#total = total;
    this.#schedule();
  }

  /** Lets batches go out (called once the answer has been handed over). */
  release(): void {
    this.#held = false;
    this.#schedule();
  }

  /** Delivers nothing more and drops what is pending. */
  stop(): void {
    this.#stopped = true;
    this.#pending = [];
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#held || this.#stopped || this.#timer !== undefined || !this.#hasWork()) return;
    this.#timer = setTimeout(() => this.#flush(), this.#intervalMs);
  }

  #hasWork(): boolean {
    return this.#pending.length > 0 || this.#endIsDue();
  }

  #endIsDue(): boolean {
    return (
      !this.#ended &&
      this.#total !== undefined &&
      this.#delivered + this.#pending.length >= this.#total
    );
  }

  #flush(): void {
    this.#timer = undefined;
    if (this.#stopped || !this.#hasWork()) return;

    const batch = this.#pending;
    this.#pending = [];
    this.#delivered += batch.length;
    if (this.#endIsDue()) {
      batch.push({ candidate: '', sdpMid: this.#sdpMid, sdpMLineIndex: this.#sdpMLineIndex });
      this.#ended = true;
    }
    this.#deliver(batch);
  }
}
