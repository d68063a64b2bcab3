import { createWriteStream, readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { writeHeapSnapshot } from 'node:v8';
import type { Worker } from 'node:worker_threads';

/** Count and bytes of one kind of heap object. */
export interface HeapKind {
  count: number;
  bytes: number;
}

/** A kind of object that grew between two snapshots. */
export interface HeapGrowth {
  name: string;
  countBefore: number;
  countAfter: number;
  bytesBefore: number;
  bytesAfter: number;
}

/** Writes the main thread's heap snapshot to `path`. Blocks the thread while it runs. */
export function writeMainSnapshot(path: string): string {
  return writeHeapSnapshot(path);
}

/** Streams a worker thread's heap snapshot to `path`. */
export async function writeWorkerSnapshot(worker: Worker, path: string): Promise<void> {
  const stream = await worker.getHeapSnapshot();
  await pipeline(stream, createWriteStream(path));
}

interface SnapshotJson {
  snapshot: { meta: { node_fields: string[]; node_types: unknown[] } };
  nodes: number[];
  strings: string[];
}

/**
 * Reads a .heapsnapshot file and totals self size and count by kind: object and native nodes
 * by their constructor name, every other node type under `(type)` (strings, arrays, code...).
 */
export function aggregateSnapshot(path: string): Map<string, HeapKind> {
  const json = JSON.parse(readFileSync(path, 'utf8')) as SnapshotJson;
  const fields = json.snapshot.meta.node_fields;
  const types = json.snapshot.meta.node_types[0];
  if (!Array.isArray(types)) throw new Error(`${path}: no node types in the snapshot's meta`);
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  if (typeAt < 0 || nameAt < 0 || sizeAt < 0) {
    throw new Error(`${path}: the snapshot's nodes lack type, name or self_size`);
  }

  const kinds = new Map<string, HeapKind>();
  const { nodes, strings } = json;
  for (let i = 0; i + width <= nodes.length; i += width) {
    const type = String(types[nodes[i + typeAt] as number]);
    const name =
      type === 'object' || type === 'native'
        ? (strings[nodes[i + nameAt] as number] ?? '(unnamed)')
        : `(${type})`;
    const kind = kinds.get(name);
    const size = nodes[i + sizeAt] as number;
    if (kind === undefined) kinds.set(name, { count: 1, bytes: size });
    else {
      kind.count += 1;
      kind.bytes += size;
    }
  }
  return kinds;
}

/** Kinds whose bytes or count grew from `before` to `after`, most bytes gained first. */
export function heapGrowth(
  before: ReadonlyMap<string, HeapKind>,
  after: ReadonlyMap<string, HeapKind>,
  limit = 25,
): HeapGrowth[] {
  const grown: HeapGrowth[] = [];
  for (const [name, now] of after) {
    const then = before.get(name) ?? { count: 0, bytes: 0 };
    if (now.bytes <= then.bytes && now.count <= then.count) continue;
    grown.push({
      name,
      countBefore: then.count,
      countAfter: now.count,
      bytesBefore: then.bytes,
      bytesAfter: now.bytes,
    });
  }
  grown.sort(
    (a, b) =>
      b.bytesAfter - b.bytesBefore - (a.bytesAfter - a.bytesBefore) ||
      b.countAfter - b.countBefore - (a.countAfter - a.countBefore),
  );
  return grown.slice(0, limit);
}
