import type pg from 'pg';
import type { DocumentMeta } from './liveDocument.js';
import { Replica, type LogEntry, type TextOp } from '../crdt/replica.js';
import type { RemoteVersion } from '../crdt/version.js';

export interface StoredLog {
  /** Server order covered by the replica (snapshot plus every row read). */
  through: number;
  replica: Replica;
}

/** An operation row as read from PostgreSQL. */
export interface OperationRow {
  server_order: string;
  agent: string;
  seq_start: number;
  ops: TextOp[] | null;
  patch: Buffer | null;
  parents: RemoteVersion;
}

export const OPERATION_COLUMNS = 'server_order, agent, seq_start, ops, patch, parents';

export function rowToEntry(row: OperationRow): LogEntry {
  if (row.patch) return { kind: 'patch', patch: row.patch };
  // A folded row's operations live in a snapshot: a reader that needs them must start from that snapshot.
  if (!row.ops) throw new Error(`operation row ${row.server_order} was folded into a snapshot; load from the snapshot`);
  return { kind: 'ops', agent: row.agent, seqStart: row.seq_start, parents: row.parents, ops: row.ops ?? [] };
}

/** Reads a document's operation rows above `after`, in server order. */
export async function readOperations(db: pg.Pool | pg.PoolClient, documentId: string, after: number): Promise<OperationRow[]> {
  const res = await db.query<OperationRow>(
    `SELECT ${OPERATION_COLUMNS} FROM operations WHERE document_id = $1 AND server_order > $2 ORDER BY server_order`,
    [documentId, after],
  );
  return res.rows;
}

/** A document's stored history: its newest snapshot (if any) and the entries after it. */
export interface StoredHistory {
  snapshot: Uint8Array | null;
  entries: LogEntry[];
  /** Server order of the last row covered. */
  through: number;
}

export async function readHistory(db: pg.Pool | pg.PoolClient, documentId: string): Promise<StoredHistory> {
  const snap = await db.query<{ server_order: string; oplog: Buffer }>(
    'SELECT server_order, oplog FROM snapshots WHERE document_id = $1 ORDER BY server_order DESC LIMIT 1',
    [documentId],
  );
  const snapOrder = snap.rows[0] ? Number(snap.rows[0].server_order) : 0;
  const rows = await readOperations(db, documentId, snapOrder);
  return { snapshot: snap.rows[0]?.oplog ?? null, entries: rows.map(rowToEntry), through: rows.length ? Number(rows[rows.length - 1]!.server_order) : snapOrder };
}

/** Builds a replica from stored history. */
export function buildReplica(history: StoredHistory): Replica {
  const replica = history.snapshot ? Replica.fromSnapshot(history.snapshot) : Replica.empty();
  try {
    for (const e of history.entries) replica.applyTrusted(e);
  } catch (e) {
    replica.free();
    throw e;
  }
  return replica;
}

/** Builds a replica of a document from its newest snapshot plus the operation rows after it. */
export async function readReplica(db: pg.Pool | pg.PoolClient, documentId: string): Promise<StoredLog> {
  const history = await readHistory(db, documentId);
  return { through: history.through, replica: buildReplica(history) };
}

/** A document's row as the API shows it (title, owner, times, trash); null when there is no such document. */
export async function readMeta(db: pg.Pool | pg.PoolClient, id: string): Promise<DocumentMeta | null> {
  const { rows } = await db.query<{ owner_id: string; title: string; created_at: Date; updated_at: Date; deleted_at: Date | null }>(
    'SELECT owner_id, title, created_at, updated_at, deleted_at FROM documents WHERE id = $1',
    [id],
  );
  const r = rows[0];
  return r ? { id, ownerId: r.owner_id, title: r.title, createdAt: r.created_at, updatedAt: r.updated_at, deletedAt: r.deleted_at } : null;
}
