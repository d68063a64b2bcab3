import { closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

import Database from 'better-sqlite3';

import { AuditError, describeValue } from './audit-error.js';
import { limitOption, whereClause, type AuditFilter } from './audit-filter.js';
import type { AuditRecord, StoredAuditRecord } from './audit-record.js';
import {
  INSERT_SQL,
  SCHEMA_SQL,
  SCHEMA_VERSION,
  HEAD_MISSING_MARK,
  WRITE_HEAD_SQL,
  recordParams,
  rowToRecord,
  type AuditRow,
  type ChainHead,
} from './audit-schema.js';
import { readAuditStats, type AuditStats } from './audit-stats.js';
import { verifyChain, type ChainVerification } from './chain-verify.js';
import { canonicalJson, recordHash } from './record-hash.js';
import { validateAuditRecord } from './validate-record.js';

/** How an audit store is opened. */
export interface AuditStoreOptions {
  /** How long a write waits for another process's write to finish. Default 5 s. */
  busyTimeoutMs?: number;
}

const IN_MEMORY = ':memory:';
const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/**
 * The durable, hash-chained audit store in one SQLite file. Every record links to the one
 * before it by hash, so an edit, a removal or a move is found by `verify`. Appends are
 * serialised by SQLite's write lock, so several processes may share one file.
 */
export class AuditStore {
  /** The file this store reads and writes, or `:memory:`. */
  readonly path: string;
  /** True when opened for reading only: appends are refused. */
  readonly readOnly: boolean;
  /** The open connection; closed by `close`. */
  #db: Database.Database;
  /** The append transaction, prepared once; undefined when read-only. */
  #appendTx: ((record: AuditRecord) => StoredAuditRecord) | undefined;

  private constructor(path: string, db: Database.Database, readOnly: boolean) {
    this.path = path;
    this.#db = db;
    this.readOnly = readOnly;
    this.#appendTx = readOnly ? undefined : this.#prepareAppend();
  }

  /**
   * Opens the store for appending, creating the file (mode 0600), its parent folders and the
   * schema when missing. Throws AuditError `store_unreadable` when the file is not an audit store.
   */
  static open(path: string, options: AuditStoreOptions = {}): AuditStore {
    checkPath(path);
    if (path !== IN_MEMORY) createFileIfMissing(path);

    const db = connect(path, { timeout: busyTimeout(options) });
    try {
      // WAL lets the report read while the bridge writes; FULL syncs the log on every commit,
      // so a record is on disk by the time append returns.
      setWalMode(db);
      db.pragma('synchronous = FULL');
      db.transaction(() => {
        db.exec(SCHEMA_SQL);
        const records = db.prepare('SELECT COUNT(*) AS n FROM audit_records').get() as {
          n: number;
        };
        const head = db.prepare('SELECT 1 FROM audit_meta').get();
        if (head === undefined && records.n === 0) {
          db.prepare(WRITE_HEAD_SQL).run({ seq: 0, hash: '' });
        }
      }).immediate();
      checkSchemaVersion(db, path);
    } catch (error) {
      db.close();
      throw asAuditError(error, path);
    }
    return new AuditStore(path, db, false);
  }

  /**
   * Opens an existing store for reading only; never creates or changes anything. Throws
   * AuditError `store_not_found` when there is no file at `path`, `store_unreadable` when the
   * file is not an audit store.
   */
  static openReadOnly(path: string, options: AuditStoreOptions = {}): AuditStore {
    checkPath(path);
    if (path === IN_MEMORY || !existsSync(path)) {
      throw new AuditError('store_not_found', `audit store not found: ${path}`, 'path');
    }
    if (!statSync(path).isFile()) {
      throw new AuditError('store_unreadable', `audit store ${path}: not a file`, 'path');
    }

    const db = connect(path, {
      readonly: true,
      fileMustExist: true,
      timeout: busyTimeout(options),
    });
    try {
      const tables = db
        .prepare(
          `SELECT COUNT(*) AS n FROM sqlite_master
           WHERE type = 'table' AND name IN ('audit_records', 'audit_meta')`,
        )
        .get() as { n: number };
      if (tables.n !== 2) {
        throw new AuditError('store_unreadable', `audit store ${path}: not an audit store`, 'path');
      }
      checkSchemaVersion(db, path);
    } catch (error) {
      db.close();
      throw asAuditError(error, path);
    }
    return new AuditStore(path, db, true);
  }

  /**
   * Validates a record, links it to the head of the chain and commits it. Returns once the
   * record is durable. Throws AuditError `invalid_record` (nothing written) for a bad record,
   * `write_failed` when SQLite refuses the write.
   */
  append(record: AuditRecord): StoredAuditRecord {
    const appendTx = this.#writable();
    const clean = validateAuditRecord(record);
    try {
      return appendTx(clean);
    } catch (error) {
      throw new AuditError(
        'write_failed',
        `audit store ${this.path}: cannot append call ${clean.call_id}: ${errorText(error)}`,
        undefined,
        { cause: error },
      );
    }
  }

  /** Number of records matching `filter` (all records by default). */
  count(filter: AuditFilter = {}): number {
    const where = whereClause(filter);
    const row = this.#open()
      .prepare(`SELECT COUNT(*) AS n FROM audit_records ${where.sql}`)
      .get(where.params) as { n: number };
    return row.n;
  }

  /** The `limit` latest calls by start time matching `filter`, latest first. */
  recent(limit: number, filter: AuditFilter = {}): StoredAuditRecord[] {
    const where = whereClause(filter);
    const rows = this.#open()
      .prepare(
        `SELECT * FROM audit_records ${where.sql} ORDER BY start DESC, seq DESC LIMIT @limit`,
      )
      .all({ ...where.params, limit: limitOption(limit) }) as AuditRow[];
    return rows.map((row) => this.#record(row));
  }

  /** The records of one call id, latest first (a caller may reuse an id after its call ended). */
  ofCall(callId: string, limit = 10): StoredAuditRecord[] {
    const rows = this.#open()
      .prepare('SELECT * FROM audit_records WHERE call_id = @callId ORDER BY seq DESC LIMIT @limit')
      .all({ callId, limit: limitOption(limit) }) as AuditRow[];
    return rows.map((row) => this.#record(row));
  }

  /** Every record of a call that ended at or after `ms`, in chain order. */
  since(ms: number): StoredAuditRecord[] {
    return this.find({ since: ms });
  }

  /** Records matching `filter` in chain order, at most `limit` of them when given. */
  find(filter: AuditFilter, limit?: number): StoredAuditRecord[] {
    const where = whereClause(filter);
    const params =
      limit === undefined ? where.params : { ...where.params, limit: limitOption(limit) };
    const rows = this.#open()
      .prepare(
        `SELECT * FROM audit_records ${where.sql} ORDER BY seq` +
          (limit === undefined ? '' : ' LIMIT @limit'),
      )
      .all(params) as AuditRow[];
    return rows.map((row) => this.#record(row));
  }

  /** Totals by state, reason, violation and policy version for records matching `filter`. */
  stats(filter: AuditFilter = {}): AuditStats {
    return readAuditStats(this.#open(), filter);
  }

  /**
   * The head of the chain: last seq and its hash. Logging it now and then lets a later check
   * notice a store that was rewritten whole.
   */
  head(): ChainHead {
    const row = this.#open()
      .prepare('SELECT head_seq AS seq, head_hash AS hash FROM audit_meta')
      .get() as ChainHead | undefined;
    return row ?? { seq: 0, hash: '' };
  }

  /** Walks the whole chain and reports the first place it does not hold. */
  verify(): ChainVerification {
    return verifyChain(this.#open());
  }

  /**
   * Runs `read` inside one read transaction, so that everything it queries comes from the same
   * state of the store even while another process appends. Not for appends.
   */
  snapshot<T>(read: () => T): T {
    const db = this.#open();
    return db.transaction(read).deferred();
  }

  /** Closes the connection. Safe to call twice. */
  close(): void {
    if (this.#db.open) this.#db.close();
  }

  #prepareAppend(): (record: AuditRecord) => StoredAuditRecord {
    const db = this.#db;
    const readHead = db.prepare('SELECT head_seq AS seq, head_hash AS hash FROM audit_meta');
    const readLast = db.prepare('SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1');
    const insert = db.prepare(INSERT_SQL);
    const writeHead = db.prepare(WRITE_HEAD_SQL);

    const tx = db.transaction((record: AuditRecord): StoredAuditRecord => {
      // The head row, not the last row, is what the next record links to: were the tail cut
      // off, the gap stays visible instead of the chain quietly going on from the cut.
      // Without a head row (removed, perhaps with the tail), the record is still written, but
      // it links to a marked hash, so verify keeps reporting the removal after this append.
      const head = (readHead.get() ??
        headAfterMissing(readLast.get() as ChainHead | undefined)) as ChainHead;
      const stored: StoredAuditRecord = {
        ...record,
        seq: head.seq + 1,
        prev_hash: head.hash,
        hash: recordHash(head.hash, record),
      };
      insert.run(
        recordParams(stored, canonicalJson(record.events), canonicalJson(record.violations)),
      );
      writeHead.run({ seq: stored.seq, hash: stored.hash });
      return stored;
    });
    // IMMEDIATE takes the write lock before reading the head, so two processes cannot both
    // link to the same record.
    return (record) => tx.immediate(record);
  }

  #record(row: AuditRow): StoredAuditRecord {
    try {
      return rowToRecord(row);
    } catch (error) {
      throw new AuditError(
        'store_unreadable',
        `audit store ${this.path}: record ${row.seq} cannot be read (${errorText(error)}); ` +
          'run verify',
        undefined,
        { cause: error },
      );
    }
  }

  #open(): Database.Database {
    if (!this.#db.open) {
      throw new AuditError('store_closed', `audit store ${this.path} is closed`);
    }
    return this.#db;
  }

  #writable(): (record: AuditRecord) => StoredAuditRecord {
    this.#open();
    if (this.#appendTx === undefined) {
      throw new AuditError('store_read_only', `audit store ${this.path} is open read-only`);
    }
    return this.#appendTx;
  }
}

function checkPath(path: unknown): asserts path is string {
  if (typeof path !== 'string' || path === '') {
    throw new AuditError(
      'store_not_found',
      `audit store: path: expected a file path, got ${describeValue(path)}`,
      'path',
    );
  }
}

function busyTimeout(options: AuditStoreOptions): number {
  const value = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new AuditError(
      'invalid_query',
      `audit store: busyTimeoutMs: expected a non-negative integer, got ${describeValue(value)}`,
      'busyTimeoutMs',
    );
  }
  return value;
}

function createFileIfMissing(path: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // 'wx' creates only when absent, so an existing store keeps the mode its operator chose.
    closeSync(openSync(path, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw new AuditError(
      'store_unreadable',
      `audit store ${path}: cannot create: ${errorText(error)}`,
      'path',
      {
        cause: error,
      },
    );
  }
}

function connect(path: string, options: Database.Options): Database.Database {
  try {
    return new Database(path, options);
  } catch (error) {
    throw asAuditError(error, path);
  }
}

function checkSchemaVersion(db: Database.Database, path: string): void {
  const row = db.prepare('SELECT schema_version AS version FROM audit_meta').get() as
    | { version: unknown }
    | undefined;
  // A missing head row is for verify to report; the schema is still the one this code knows.
  if (row !== undefined && row.version !== SCHEMA_VERSION) {
    throw new AuditError(
      'store_unreadable',
      `audit store ${path}: schema version ${describeValue(row.version)}, ` +
        `expected ${SCHEMA_VERSION}`,
      'path',
    );
  }
}

function asAuditError(error: unknown, path: string): AuditError {
  if (error instanceof AuditError) return error;
  return new AuditError('store_unreadable', `audit store ${path}: ${errorText(error)}`, 'path', {
    cause: error,
  });
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function headAfterMissing(last: ChainHead | undefined): ChainHead {
  return last === undefined
    ? { seq: 0, hash: '' }
    : { seq: last.seq, hash: HEAD_MISSING_MARK + last.hash };
}

/**
 * Switches a connection to WAL. SQLite does not call the busy handler for this switch, so two
 * processes opening a new store at once can see SQLITE_BUSY: wait a little and try again.
 */
function setWalMode(db: Database.Database): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let attempt = 1; ; attempt++) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      const busy = (error as { code?: unknown }).code === 'SQLITE_BUSY';
      if (!busy || attempt >= 100) throw error;
      // A synchronous pause: open is synchronous, and this happens only at start.
      Atomics.wait(pause, 0, 0, 20);
    }
  }
}
