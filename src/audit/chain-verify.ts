import type Database from 'better-sqlite3';

import { HEAD_MISSING_MARK, rowToRecord, type AuditRow, type ChainHead } from './audit-schema.js';
import { recordHash } from './record-hash.js';

/** How the chain is broken where verification stopped. */
export type ChainProblemKind = 'edited' | 'missing' | 'reordered';

/** The first place the chain does not hold, and what was found there. */
export interface ChainProblem {
  /** The record at fault (for a missing run, the first missing one). */
  seq: number;
  kind: ChainProblemKind;
  detail: string;
}

/** The outcome of walking the chain. */
export interface ChainVerification {
  ok: boolean;
  /** Records that were checked and found sound before any problem. */
  checked: number;
  problem?: ChainProblem;
}

/** Where the walk stopped on a record that is sound in itself but does not follow its neighbour. */
interface BrokenLink {
  seq: number;
  linksTo: string;
}

/**
 * Walks the whole chain in order, one row at a time, inside one read transaction, and stops at
 * the first problem: a record whose content no longer matches its hash (edited), a gap in the
 * sequence or a tail shorter than the recorded head (missing), or a record that links to
 * another record's hash than its predecessor's (reordered).
 *
 * Limitation: this proves the store was not partly edited. Whoever can rewrite the whole file
 * can recompute every hash and the head row as well; only a copy of the head kept elsewhere
 * (a log line, another host) would catch that.
 */
export function verifyChain(db: Database.Database): ChainVerification {
  // Inside a caller's snapshot, read in it; otherwise take one so appends do not move the end.
  const ownTransaction = !db.inTransaction;
  if (ownTransaction) db.exec('BEGIN');
  try {
    const head = db.prepare('SELECT head_seq AS seq, head_hash AS hash FROM audit_meta').get() as
      | ChainHead
      | undefined;

    let checked = 0;
    let prevHash = '';
    let broken: BrokenLink | undefined;
    let problem: ChainProblem | undefined;

    const rows = db
      .prepare('SELECT * FROM audit_records ORDER BY seq')
      .iterate() as Iterable<AuditRow>;
    for (const row of rows) {
      const expected = checked + 1;
      if (row.seq < expected) {
        problem = {
          seq: row.seq,
          kind: 'edited',
          detail:
            `record ${row.seq} is outside the sequence, which starts at 1: ` +
            'it was inserted by hand',
        };
        break;
      }
      if (row.seq > expected) {
        problem = missingRun(expected, row.seq);
        break;
      }
      if (!matchesOwnHash(row)) {
        problem = {
          seq: row.seq,
          kind: 'edited',
          detail: `record ${row.seq} no longer matches its own hash: a stored field was changed`,
        };
        break;
      }
      if (row.prev_hash !== prevHash) {
        broken = { seq: row.seq, linksTo: String(row.prev_hash) };
        break;
      }
      checked += 1;
      prevHash = String(row.hash);
    }

    // Looked up only after the walk: the connection cannot run a query while iterating.
    if (broken !== undefined) problem = explainBrokenLink(db, broken);
    problem ??= checkHead(head, checked, prevHash);

    return problem === undefined ? { ok: true, checked } : { ok: false, checked, problem };
  } finally {
    if (ownTransaction) db.exec('COMMIT');
  }
}

function matchesOwnHash(row: AuditRow): boolean {
  try {
    return recordHash(String(row.prev_hash), rowToRecord(row)) === row.hash;
  } catch {
    // A JSON column that no longer parses was edited.
    return false;
  }
}

function missingRun(first: number, next: number): ChainProblem {
  const run = next - 1 === first ? `record ${first} is` : `records ${first} to ${next - 1} are`;
  return {
    seq: first,
    kind: 'missing',
    detail: `${run} missing: the chain jumps from ${first - 1} to ${next}`,
  };
}

function explainBrokenLink(db: Database.Database, broken: BrokenLink): ChainProblem {
  if (broken.linksTo.startsWith(HEAD_MISSING_MARK)) {
    return {
      seq: broken.seq,
      kind: 'missing',
      detail:
        `record ${broken.seq} was appended while the head row was missing from audit_meta: ` +
        'records after the one before it may have been removed',
    };
  }
  const target = db
    .prepare('SELECT seq FROM audit_records WHERE hash = ? ORDER BY seq LIMIT 1')
    .get(broken.linksTo) as { seq: number } | undefined;

  if (target !== undefined) {
    return {
      seq: broken.seq,
      kind: 'reordered',
      detail:
        `record ${broken.seq} follows record ${target.seq} in the chain, ` +
        `not record ${broken.seq - 1}: records were moved`,
    };
  }
  if (broken.seq === 1) {
    return {
      seq: 1,
      kind: 'missing',
      detail: 'record 1 links to a record that is not in the store: earlier records were removed',
    };
  }
  return {
    seq: broken.seq - 1,
    kind: 'edited',
    detail:
      `record ${broken.seq} links to a hash no stored record has: record ${broken.seq - 1} ` +
      'was rewritten along with its hash, or records were removed and the rest renumbered',
  };
}

function checkHead(
  head: ChainHead | undefined,
  last: number,
  lastHash: string,
): ChainProblem | undefined {
  if (head === undefined) {
    return {
      seq: last,
      kind: 'missing',
      detail: 'the head row (last seq and hash) is missing from audit_meta',
    };
  }
  if (head.seq > last) {
    const run =
      head.seq - 1 === last ? `record ${head.seq} is` : `records ${last + 1} to ${head.seq} are`;
    return {
      seq: last + 1,
      kind: 'missing',
      detail: `${run} missing from the end: the head says the chain ends at ${head.seq}`,
    };
  }
  if (head.seq < last) {
    return {
      seq: head.seq + 1,
      kind: 'edited',
      detail:
        `record ${head.seq + 1} is past the head (${head.seq}): ` +
        'it was added outside the store',
    };
  }
  if (head.hash !== lastHash) {
    return {
      seq: last,
      kind: 'edited',
      detail: `record ${last} has another hash than the head: it was rewritten along with its hash`,
    };
  }
  return undefined;
}
