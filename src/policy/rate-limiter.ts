import { UserKeyHasher } from './user-key.js';

// A slot of the user table is 24 bytes: four Int32 words and, at bytes 16..23, the user's
// oldest timestamp. Keeping the oldest timestamp beside the key means a user with one call
// in the window, and the common "nothing has expired" check, touch only the table.
const SLOT_BYTES = 24;
const SLOT_WORDS = SLOT_BYTES / 4;
const SLOT_DOUBLES = SLOT_BYTES / 8;
/** Int32 word: first half of the user's key. */
const KEY_A = 0;
/** Int32 word: second half of the user's key. */
const KEY_B = 1;
/** Int32 word: timestamps held; 0 marks an empty slot. */
const COUNT = 2;
/** Int32 word: newest node of the user's other timestamps, 0 when there are none. */
const TAIL = 3;
/** Float64 index within the slot: the user's oldest timestamp. */
const OLDEST = 2;

// A node of the timestamp pool is 16 bytes: a Float64 timestamp at bytes 0..7 and an Int32
// link to the next node at bytes 8..11. Node 0 is never handed out, so 0 can mean "no node".
const NODE_BYTES = 16;
const NODE_WORDS = NODE_BYTES / 4;
const NODE_DOUBLES = NODE_BYTES / 8;
/** Int32 word of a node: the next node of its list. */
const NEXT = 2;

/** Users the table holds before it first grows, unless told otherwise. */
const DEFAULT_INITIAL_CAPACITY = 1024;
/** Largest `initialCapacity` accepted, to keep a typo from reserving gigabytes. */
const MAX_INITIAL_CAPACITY = 1 << 24;
/** Largest `limit` accepted: timestamp counts are Int32. */
const MAX_LIMIT = 0x7fffffff;

/** Options of a {@link SlidingWindowRateLimiter}. */
export interface SlidingWindowRateLimiterOptions {
  /** Admitted calls a user may have in any window; 0 turns the limit off. */
  limit: number;
  /** Window length in milliseconds. */
  windowMs: number;
  /** Users to hold before the first growth; storage never shrinks below this. */
  initialCapacity?: number;
  /** Fixed hash seeds, for reproducible tests only; random when left out. */
  seeds?: readonly [number, number];
}

/**
 * A sliding-window rate limit per user, counting admitted calls only.
 *
 * A call recorded at time `t` counts at time `now` while `now - t < windowMs`: it still
 * counts at `t + windowMs - 1` and no longer at `t + windowMs`. A user is allowed one more
 * call when fewer than `limit` calls count. Every window ending at any instant is checked,
 * so there is no burst of twice the limit around a window boundary.
 *
 * Times are milliseconds on any clock that should not run backwards. If it does, a call is
 * recorded no earlier than the user's newest call, so no call is ever counted for less time
 * than its true window.
 *
 * Users are keyed by a 64-bit hash in an open-addressing table (linear probing,
 * backward-shift deletion) of typed arrays; a user's oldest timestamp sits in its slot and
 * the others in a pooled circular list. Only the newest `limit` timestamps of a user are
 * kept: the answers are the same as with all of them, and a caller that records more calls
 * than it was allowed cannot make one user's state grow without bound. A user with one call
 * costs about 50 bytes at a million users (24 per slot, at most half the slots in use), and
 * a sweep gives back the storage of users whose window has emptied.
 *
 * Limitation: two users whose 64-bit keys collide share one window, each one's calls
 * counting against the other. With random seeds the chance that any two of n users
 * collide is about n² / 2^65: about 3 in 100 million for a million users.
 */
export class SlidingWindowRateLimiter {
  /** Admitted calls a user may have in any window; 0 means no limit. */
  readonly limit: number;
  /** Window length in milliseconds. */
  readonly windowMs: number;

  /** Turns user ids into table keys. */
  readonly #hasher: UserKeyHasher;
  /** Table slots at the smallest. */
  readonly #minSlots: number;
  /** Pool nodes at the smallest (node 0 included). */
  readonly #minNodes: number;

  /** The user table's bytes; `#slotWords` and `#slotDoubles` view it. */
  #slotWords: Int32Array;
  /** Float64 view of the user table. */
  #slotDoubles: Float64Array;
  /** Table slots minus one (slots are a power of two). */
  #mask: number;
  /** Occupied slots. */
  #users = 0;

  /** Links of the timestamp pool: each node's next node. */
  #nodeWords: Int32Array;
  /** Float64 view of the pool: each node's timestamp. */
  #nodeDoubles: Float64Array;
  /** Nodes the pool has room for, node 0 included. */
  #nodeCapacity: number;
  /** Head of the list of freed nodes, 0 when empty. */
  #freeNode = 0;
  /** First node never handed out. */
  #nodeTop = 1;
  /** Nodes holding a timestamp. */
  #nodesUsed = 0;

  // The enforcer asks `allows` then calls `record` for the same user: remembering the last
  // user's key and slot saves hashing and probing twice.
  /** The last user looked up; starts as '' with the key of '', so it is always a string. */
  #lastUser = '';
  /** First key half of `#lastUser`. */
  #lastA = 0;
  /** Second key half of `#lastUser`. */
  #lastB = 0;
  /** Where `#lastUser` was found, or -1; checked against the key before use. */
  #lastSlot = -1;
  /** After a failed lookup: the empty slot where the user would go. */
  #insertAt = 0;

  constructor(options: SlidingWindowRateLimiterOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`options must be an object, got ${String(options)}`);
    }
    this.limit = checkNumber('limit', options.limit);
    if (!Number.isInteger(this.limit) || this.limit < 0 || this.limit > MAX_LIMIT) {
      throw new RangeError(`limit must be an integer from 0 to ${MAX_LIMIT}, got ${this.limit}`);
    }
    this.windowMs = checkNumber('windowMs', options.windowMs);
    if (!Number.isFinite(this.windowMs) || this.windowMs <= 0) {
      throw new RangeError(`windowMs must be a positive finite number, got ${this.windowMs}`);
    }
    const initial = checkNumber(
      'initialCapacity',
      options.initialCapacity ?? DEFAULT_INITIAL_CAPACITY,
    );
    if (!Number.isInteger(initial) || initial < 1 || initial > MAX_INITIAL_CAPACITY) {
      throw new RangeError(
        `initialCapacity must be an integer from 1 to ${MAX_INITIAL_CAPACITY}, got ${initial}`,
      );
    }
    this.#hasher = new UserKeyHasher(options.seeds);
    this.#hasher.hash('');
    this.#lastA = this.#hasher.a;
    this.#lastB = this.#hasher.b;

    // With no limit nothing is ever stored, so nothing is reserved.
    this.#minSlots = this.limit === 0 ? 0 : powerOfTwoAtLeast(initial * 2);
    this.#minNodes = this.limit === 0 ? 0 : powerOfTwoAtLeast(Math.max(2, initial / 2));
    const table = new ArrayBuffer(this.#minSlots * SLOT_BYTES);
    this.#slotWords = new Int32Array(table);
    this.#slotDoubles = new Float64Array(table);
    this.#mask = this.#minSlots - 1;
    const pool = new ArrayBuffer(this.#minNodes * NODE_BYTES);
    this.#nodeWords = new Int32Array(pool);
    this.#nodeDoubles = new Float64Array(pool);
    this.#nodeCapacity = this.#minNodes;
  }

  /** True when one more call from `user` at `now` would stay within the limit. */
  allows(user: string, now: number): boolean {
    if (this.limit === 0) return true;
    checkCall(user, now);
    const slot = this.#find(user);
    if (slot < 0 || !this.#prune(slot, now)) return true;
    return this.#slotWords[slot * SLOT_WORDS + COUNT]! < this.limit;
  }

  /** Records an admitted call from `user` at `now`. */
  record(user: string, now: number): void {
    if (this.limit === 0) return;
    checkCall(user, now);
    let slot = this.#find(user);
    if (slot >= 0 && !this.#prune(slot, now)) slot = this.#find(user);
    if (slot < 0) {
      this.#insert(now);
      return;
    }

    const words = this.#slotWords;
    const word = slot * SLOT_WORDS;
    let count = words[word + COUNT]!;
    let tail = words[word + TAIL]!;
    const newest = tail === 0 ? this.#slotDoubles[slot * SLOT_DOUBLES + OLDEST]! : this.#time(tail);
    const at = now < newest ? newest : now;

    if (count >= this.limit) {
      // Only the newest `limit` timestamps decide anything: forget the oldest.
      if (tail === 0) {
        this.#slotDoubles[slot * SLOT_DOUBLES + OLDEST] = at;
        return;
      }
      tail = this.#shiftOldest(slot, tail);
      count--;
    }

    const node = this.#allocateNode();
    this.#nodeDoubles[node * NODE_DOUBLES] = at;
    const links = this.#nodeWords;
    if (tail === 0) {
      links[node * NODE_WORDS + NEXT] = node;
    } else {
      links[node * NODE_WORDS + NEXT] = links[tail * NODE_WORDS + NEXT]!;
      links[tail * NODE_WORDS + NEXT] = node;
    }
    words[word + COUNT] = count + 1;
    words[word + TAIL] = node;
  }

  /** Calls of `user` that count at `now`, up to `limit` (older ones are not kept). */
  callsInWindow(user: string, now: number): number {
    if (this.limit === 0) return 0;
    checkCall(user, now);
    const slot = this.#find(user);
    if (slot < 0 || !this.#prune(slot, now)) return 0;
    return this.#slotWords[slot * SLOT_WORDS + COUNT]!;
  }

  /** Milliseconds from `now` until `user` is allowed another call; 0 when allowed now. */
  retryAfterMs(user: string, now: number): number {
    if (!this.allows(user, now)) {
      const slot = this.#find(user);
      return this.#slotDoubles[slot * SLOT_DOUBLES + OLDEST]! + this.windowMs - now;
    }
    return 0;
  }

  /**
   * Drops every timestamp that has left the window and every user whose window is empty;
   * shrinks storage. Returns users dropped.
   */
  sweep(now: number): number {
    if (this.limit === 0) return 0;
    checkTime(now);
    let dropped = 0;
    const words = this.#slotWords;
    const slots = this.#mask + 1;
    for (let slot = 0; slot < slots; slot++) {
      if (words[slot * SLOT_WORDS + COUNT] === 0) continue;
      if (!this.#prune(slot, now)) {
        dropped++;
        // The deletion may have shifted a later user into this slot: look at it again.
        slot--;
      }
    }
    this.#shrink();
    return dropped;
  }

  /** Users holding at least one timestamp. */
  get activeUsers(): number {
    return this.#users;
  }

  /** Bytes of storage held (the typed arrays' byteLength summed). */
  get stateBytes(): number {
    return this.#slotWords.byteLength + this.#nodeWords.byteLength;
  }

  /** Slot of `user`, or -1 with `#insertAt` set to where it would go. */
  #find(user: string): number {
    let a: number;
    let b: number;
    const words = this.#slotWords;
    if (user === this.#lastUser) {
      a = this.#lastA;
      b = this.#lastB;
      const last = this.#lastSlot;
      if (last >= 0 && last <= this.#mask) {
        const word = last * SLOT_WORDS;
        if (words[word + COUNT] !== 0 && words[word + KEY_A] === a && words[word + KEY_B] === b) {
          return last;
        }
      }
    } else {
      this.#hasher.hash(user);
      a = this.#hasher.a;
      b = this.#hasher.b;
      this.#lastUser = user;
      this.#lastA = a;
      this.#lastB = b;
    }

    const mask = this.#mask;
    let slot = a & mask;
    for (;;) {
      const word = slot * SLOT_WORDS;
      if (words[word + COUNT] === 0) break;
      if (words[word + KEY_A] === a && words[word + KEY_B] === b) {
        this.#lastSlot = slot;
        return slot;
      }
      slot = (slot + 1) & mask;
    }
    this.#lastSlot = -1;
    this.#insertAt = slot;
    return -1;
  }

  /** Adds the last user looked up, absent from the table, with one call at `now`. */
  #insert(now: number): void {
    // Limitation: the table's buffer tops out at 4 GiB in V8 (2^27 slots, about 67 million
    // users); growing past that throws V8's RangeError and the call is not recorded.
    if ((this.#users + 1) * 2 > this.#mask + 1) {
      this.#resizeTable((this.#mask + 1) * 2);
      this.#find(this.#lastUser);
    }
    const slot = this.#insertAt;
    const word = slot * SLOT_WORDS;
    const words = this.#slotWords;
    words[word + KEY_A] = this.#lastA;
    words[word + KEY_B] = this.#lastB;
    words[word + COUNT] = 1;
    words[word + TAIL] = 0;
    this.#slotDoubles[slot * SLOT_DOUBLES + OLDEST] = now;
    this.#users++;
    this.#lastSlot = slot;
  }

  /**
   * Drops the timestamps of the user at `slot` that have left the window at `now`, and the
   * user too when none is left. Returns whether the user is still there.
   */
  #prune(slot: number, now: number): boolean {
    const window = this.windowMs;
    const oldestAt = slot * SLOT_DOUBLES + OLDEST;
    if (now - this.#slotDoubles[oldestAt]! < window) return true;

    const words = this.#slotWords;
    const word = slot * SLOT_WORDS;
    let count = words[word + COUNT]!;
    let tail = words[word + TAIL]!;
    do {
      if (tail === 0) {
        this.#delete(slot);
        return false;
      }
      tail = this.#shiftOldest(slot, tail);
      count--;
    } while (now - this.#slotDoubles[oldestAt]! >= window);
    words[word + COUNT] = count;
    return true;
  }

  /**
   * Moves the oldest pooled timestamp of the user at `slot` into the slot, replacing the
   * oldest, and frees its node. Returns the new tail; the caller updates the count.
   */
  #shiftOldest(slot: number, tail: number): number {
    const links = this.#nodeWords;
    const head = links[tail * NODE_WORDS + NEXT]!;
    this.#slotDoubles[slot * SLOT_DOUBLES + OLDEST] = this.#nodeDoubles[head * NODE_DOUBLES]!;
    if (head === tail) {
      tail = 0;
    } else {
      links[tail * NODE_WORDS + NEXT] = links[head * NODE_WORDS + NEXT]!;
    }
    this.#slotWords[slot * SLOT_WORDS + TAIL] = tail;
    links[head * NODE_WORDS + NEXT] = this.#freeNode;
    this.#freeNode = head;
    this.#nodesUsed--;
    return tail;
  }

  /** Empties `slot`, whose user has no pooled timestamps left, keeping every probe intact. */
  #delete(slot: number): void {
    const words = this.#slotWords;
    const mask = this.#mask;
    let hole = slot;
    let next = slot;
    // Backward shift: pull each later user of the run into the hole unless that would put
    // it before its home slot, so lookups never meet a gap inside a run.
    for (;;) {
      next = (next + 1) & mask;
      const from = next * SLOT_WORDS;
      if (words[from + COUNT] === 0) break;
      const home = words[from + KEY_A]! & mask;
      if (((next - home) & mask) < ((next - hole) & mask)) continue;
      const to = hole * SLOT_WORDS;
      for (let i = 0; i < SLOT_WORDS; i++) words[to + i] = words[from + i]!;
      hole = next;
    }
    words[hole * SLOT_WORDS + COUNT] = 0;
    this.#users--;
    this.#lastSlot = -1;
  }

  /** Timestamp held by pool node `node`. */
  #time(node: number): number {
    return this.#nodeDoubles[node * NODE_DOUBLES]!;
  }

  /** Hands out a pool node, growing the pool when full. */
  #allocateNode(): number {
    let node = this.#freeNode;
    if (node !== 0) {
      this.#freeNode = this.#nodeWords[node * NODE_WORDS + NEXT]!;
    } else {
      if (this.#nodeTop === this.#nodeCapacity) this.#resizePool(this.#nodeCapacity * 2);
      node = this.#nodeTop++;
    }
    this.#nodesUsed++;
    return node;
  }

  /** Gives back storage that a sweep left mostly empty, never going below the initial size. */
  #shrink(): void {
    const slots = Math.max(this.#minSlots, powerOfTwoAtLeast(this.#users * 4));
    if (slots < this.#mask + 1) this.#resizeTable(slots);

    const nodes = Math.max(this.#minNodes, powerOfTwoAtLeast((this.#nodesUsed + 1) * 2));
    if (nodes < this.#nodeCapacity) this.#resizePool(nodes);
  }

  /** Moves every user into a table of `slots` slots. */
  #resizeTable(slots: number): void {
    const oldWords = this.#slotWords;
    const oldSlots = this.#mask + 1;
    const table = new ArrayBuffer(slots * SLOT_BYTES);
    const words = new Int32Array(table);
    const mask = slots - 1;
    for (let old = 0; old < oldSlots; old++) {
      const from = old * SLOT_WORDS;
      if (oldWords[from + COUNT] === 0) continue;
      let slot = oldWords[from + KEY_A]! & mask;
      while (words[slot * SLOT_WORDS + COUNT] !== 0) slot = (slot + 1) & mask;
      const to = slot * SLOT_WORDS;
      for (let i = 0; i < SLOT_WORDS; i++) words[to + i] = oldWords[from + i]!;
    }
    this.#slotWords = words;
    this.#slotDoubles = new Float64Array(table);
    this.#mask = mask;
    this.#lastSlot = -1;
  }

  /**
   * Gives the pool room for `nodes` nodes. Growing copies it; shrinking packs every user's
   * list into the first nodes, since freed nodes may sit anywhere.
   */
  #resizePool(nodes: number): void {
    const pool = new ArrayBuffer(nodes * NODE_BYTES);
    const links = new Int32Array(pool);
    const times = new Float64Array(pool);
    if (nodes > this.#nodeCapacity) {
      new Uint8Array(pool).set(new Uint8Array(this.#nodeWords.buffer));
    } else {
      const oldLinks = this.#nodeWords;
      const oldTimes = this.#nodeDoubles;
      const words = this.#slotWords;
      const slots = this.#mask + 1;
      let top = 1;
      for (let slot = 0; slot < slots; slot++) {
        const tailWord = slot * SLOT_WORDS + TAIL;
        const tail = words[tailWord]!;
        if (words[slot * SLOT_WORDS + COUNT] === 0 || tail === 0) continue;
        const first = top;
        let node = tail;
        do {
          node = oldLinks[node * NODE_WORDS + NEXT]!;
          times[top * NODE_DOUBLES] = oldTimes[node * NODE_DOUBLES]!;
          links[top * NODE_WORDS + NEXT] = top + 1;
          top++;
        } while (node !== tail);
        links[(top - 1) * NODE_WORDS + NEXT] = first;
        words[tailWord] = top - 1;
      }
      this.#nodeTop = top;
      this.#freeNode = 0;
    }
    this.#nodeWords = links;
    this.#nodeDoubles = times;
    this.#nodeCapacity = nodes;
  }
}

/** Smallest power of two that is at least `n` (and at least 2). */
function powerOfTwoAtLeast(n: number): number {
  let size = 2;
  while (size < n) size *= 2;
  return size;
}

function checkNumber(name: string, value: unknown): number {
  if (typeof value !== 'number') {
    throw new TypeError(`${name} must be a number, got ${typeof value}`);
  }
  return value;
}

/** Rejects a call whose arguments would corrupt the state (a NaN time would never expire). */
function checkCall(user: string, now: number): void {
  if (typeof user !== 'string') {
    throw new TypeError(`user must be a string, got ${typeof user}`);
  }
  checkTime(now);
}

function checkTime(now: number): void {
  if (Number.isFinite(now)) return;
  checkNumber('now', now);
  throw new RangeError(`now must be a finite number, got ${now}`);
}
