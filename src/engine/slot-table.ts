/**
 * The slot table: one SharedArrayBuffer holding a fixed number of call slots, shared by the
 * main thread and the media workers without locks.
 *
 * Each slot has an Int32 part (control words, always accessed with Atomics) and a Float64
 * part (limits and counters). Every field has one writer:
 * - admission (main thread): generation, state, hard-stop flags, reported bits, the limits;
 * - media (the thread running the call's media loop): usage counters and activity;
 * - checker (whichever thread checks the limits: the media loop per tick, the main thread
 *   per scan): raised bits, set with Atomics.or so both may check;
 * - stop reason: set once by compare-and-exchange from 0, so the first stop wins whoever
 *   raises it (a limit in the worker, a hangup or shutdown on the main thread).
 * Float64 fields are plain reads and writes: their writer publishes them before an atomic
 * store (generation for limits, tick sequence for counters), and readers load that word
 * first, which orders the reads after the writes.
 */

/** Int32 control words of a slot. */
export const I32 = {
  generation: 0,
  state: 1,
  stopReason: 2,
  hardFlags: 3,
  raised: 4,
  reported: 5,
  tickSeq: 6,
  worker: 7,
} as const;
/** Int32 words per slot (room to grow without moving the Float64 part). */
export const I32_PER_SLOT = 16;

/** Float64 fields of a slot. */
export const F64 = {
  // Written at admission.
  startedAt: 0,
  tokenLimit: 1,
  durationDeadline: 2,
  idleTtl: 3,
  maxTtlDeadline: 4,
  maxCallDeadline: 5,
  budgetWarningRatio: 6,
  ttlWarningRatio: 7,
  // Written by the media owner.
  inputTokens: 8,
  outputTokens: 9,
  lastActivityAt: 10,
  packetsIn: 11,
  packetsOut: 12,
  bytesIn: 13,
  bytesOut: 14,
  packetsLost: 15,
  jitterMs: 16,
  reordered: 17,
  late: 18,
  concealedFrames: 19,
  tickLatenessMs: 20,
} as const;
/** Float64 fields per slot (two cache lines). */
export const F64_PER_SLOT = 32;

/** Hard-stop flags. */
export const HARD_BUDGET = 1;
export const HARD_TTL = 2;

const STATE_FREE = 0;
const STATE_LIVE = 1;

/** Names one use of a slot: a slot reused for a later call has a new generation. */
export interface SlotHandle {
  readonly index: number;
  readonly generation: number;
}

/** The limits written into a slot when a call is admitted. Times are epoch ms. */
export interface SlotLimits {
  startedAt: number;
  tokenLimit: number;
  durationDeadline: number;
  idleTtl: number;
  maxTtlDeadline: number;
  maxCallDeadline: number;
  budgetWarningRatio: number;
  ttlWarningRatio: number;
  budgetHardStop: boolean;
  ttlHardStop: boolean;
}

/** The buffers to send to another thread so it can open the same table. */
export interface SlotTableShared {
  capacity: number;
  control: SharedArrayBuffer;
  values: SharedArrayBuffer;
}

/** Raised when a slot operation names a slot that is not live under that generation. */
export class SlotError extends Error {
  constructor(
    readonly code: 'table_full' | 'stale_handle' | 'bad_capacity',
    message: string,
  ) {
    super(message);
    this.name = 'SlotError';
  }
}

/** A view of the shared slot table; every thread opens its own view of the same buffers. */
export class SlotTable {
  /** Number of slots. */
  readonly capacity: number;
  /** Control words, Atomics only. */
  readonly i32: Int32Array;
  /** Limits and counters. */
  readonly f64: Float64Array;
  /** Free slot indices; used only by the thread that claims slots (main). */
  #free: number[] = [];

  private constructor(shared: SlotTableShared) {
    this.capacity = shared.capacity;
    this.i32 = new Int32Array(shared.control);
    this.f64 = new Float64Array(shared.values);
    for (let index = this.capacity - 1; index >= 0; index--) {
      if (Atomics.load(this.i32, index * I32_PER_SLOT + I32.state) === STATE_FREE) {
        this.#free.push(index);
      }
    }
  }

  /** Allocates a new table with `capacity` slots. */
  static create(capacity: number): SlotTable {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1_000_000) {
      throw new SlotError(
        'bad_capacity',
        `capacity must be an integer from 1 to 1000000, got ${capacity}`,
      );
    }
    return new SlotTable({
      capacity,
      control: new SharedArrayBuffer(capacity * I32_PER_SLOT * 4),
      values: new SharedArrayBuffer(capacity * F64_PER_SLOT * 8),
    });
  }

  /** Opens a view of a table created elsewhere (in another thread). */
  static open(shared: SlotTableShared): SlotTable {
    return new SlotTable(shared);
  }

  /** What to post to another thread so it can `open` this table. */
  get shared(): SlotTableShared {
    return {
      capacity: this.capacity,
      control: this.i32.buffer as SharedArrayBuffer,
      values: this.f64.buffer as SharedArrayBuffer,
    };
  }

  /** Slots not in use. */
  get freeCount(): number {
    return this.#free.length;
  }

  /**
   * Claims a free slot for a new call and publishes its limits. Counters start at zero and
   * activity at the start time. Main thread only.
   */
  claim(limits: SlotLimits): SlotHandle {
    const index = this.#free.pop();
    if (index === undefined)
      throw new SlotError('table_full', `all ${this.capacity} slots are in use`);

    const f = index * F64_PER_SLOT;
    this.f64.fill(0, f, f + F64_PER_SLOT);
    this.f64[f + F64.startedAt] = limits.startedAt;
    this.f64[f + F64.tokenLimit] = limits.tokenLimit;
    this.f64[f + F64.durationDeadline] = limits.durationDeadline;
    this.f64[f + F64.idleTtl] = limits.idleTtl;
    this.f64[f + F64.maxTtlDeadline] = limits.maxTtlDeadline;
    this.f64[f + F64.maxCallDeadline] = limits.maxCallDeadline;
    this.f64[f + F64.budgetWarningRatio] = limits.budgetWarningRatio;
    this.f64[f + F64.ttlWarningRatio] = limits.ttlWarningRatio;
    this.f64[f + F64.lastActivityAt] = limits.startedAt;

    const i = index * I32_PER_SLOT;
    Atomics.store(this.i32, i + I32.stopReason, 0);
    Atomics.store(this.i32, i + I32.raised, 0);
    Atomics.store(this.i32, i + I32.reported, 0);
    Atomics.store(this.i32, i + I32.tickSeq, 0);
    Atomics.store(this.i32, i + I32.worker, -1);
    Atomics.store(
      this.i32,
      i + I32.hardFlags,
      (limits.budgetHardStop ? HARD_BUDGET : 0) | (limits.ttlHardStop ? HARD_TTL : 0),
    );
    // The generation store publishes everything above to readers that load it first.
    const generation = (Atomics.load(this.i32, i + I32.generation) + 1) | 0;
    Atomics.store(this.i32, i + I32.generation, generation);
    Atomics.store(this.i32, i + I32.state, STATE_LIVE);
    return { index, generation };
  }

  /** Frees a slot. Returns false when the handle was already released (idempotent). */
  release(handle: SlotHandle): boolean {
    if (!this.isLive(handle)) return false;
    Atomics.store(this.i32, handle.index * I32_PER_SLOT + I32.state, STATE_FREE);
    this.#free.push(handle.index);
    return true;
  }

  /** True while the slot holds the call this handle names. */
  isLive(handle: SlotHandle): boolean {
    const i = handle.index * I32_PER_SLOT;
    return (
      handle.index >= 0 &&
      handle.index < this.capacity &&
      Atomics.load(this.i32, i + I32.state) === STATE_LIVE &&
      Atomics.load(this.i32, i + I32.generation) === handle.generation
    );
  }

  /** The current handle of a live slot, or undefined when the slot is free. */
  handleAt(index: number): SlotHandle | undefined {
    const i = index * I32_PER_SLOT;
    if (Atomics.load(this.i32, i + I32.state) !== STATE_LIVE) return undefined;
    return { index, generation: Atomics.load(this.i32, i + I32.generation) };
  }

  /** Reads a Float64 field. */
  get(index: number, field: number): number {
    return this.f64[index * F64_PER_SLOT + field] ?? 0;
  }

  /** Writes a Float64 field; only the field's writer may call this. */
  set(index: number, field: number, value: number): void {
    this.f64[index * F64_PER_SLOT + field] = value;
  }

  /** Adds to a Float64 counter; only the field's writer may call this. */
  add(index: number, field: number, delta: number): void {
    this.f64[index * F64_PER_SLOT + field] = (this.f64[index * F64_PER_SLOT + field] ?? 0) + delta;
  }

  /** Reads a control word. */
  load(index: number, word: number): number {
    return Atomics.load(this.i32, index * I32_PER_SLOT + word);
  }

  /** Writes a control word; only the word's writer may call this. */
  store(index: number, word: number, value: number): void {
    Atomics.store(this.i32, index * I32_PER_SLOT + word, value);
  }

  /** Sets bits of a control word; returns the bits that were set before. */
  or(index: number, word: number, bits: number): number {
    return Atomics.or(this.i32, index * I32_PER_SLOT + word, bits);
  }

  /** Publishes the media owner's counters: readers that load tickSeq see them. */
  publish(index: number): void {
    Atomics.add(this.i32, index * I32_PER_SLOT + I32.tickSeq, 1);
  }

  /**
   * Raises the stop flag with `code` unless a stop was already raised. Returns true when this
   * call set it (the first stop wins) and wakes anyone waiting on the word.
   */
  raiseStop(index: number, code: number): boolean {
    const i = index * I32_PER_SLOT + I32.stopReason;
    if (Atomics.compareExchange(this.i32, i, 0, code) !== 0) return false;
    Atomics.notify(this.i32, i);
    return true;
  }
}
