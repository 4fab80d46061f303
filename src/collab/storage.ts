import type pg from 'pg';
import { Replica } from '../crdt/replica.js';

export interface StoredLog {
  /** Server order covered by the replica (snapshot plus every row read). */
  through: number;
  replica: Replica;
}

/** Builds a replica of a document from its newest snapshot plus the operation rows after it. */
export async function readReplica(pool: pg.Pool | pg.PoolClient, documentId: string): Promise<StoredLog> {
  const snap = await pool.query<{ server_order: string; oplog: Buffer }>(
    'SELECT server_order, oplog FROM snapshots WHERE document_id = $1 ORDER BY server_order DESC LIMIT 1',
    [documentId],
  );
  const snapOrder = snap.rows[0] ? Number(snap.rows[0].server_order) : 0;
  const ops = await pool.query<{ server_order: string; patch: Buffer }>(
    'SELECT server_order, patch FROM operations WHERE document_id = $1 AND server_order > $2 ORDER BY server_order',
    [documentId, snapOrder],
  );
  const replica = snap.rows[0] ? Replica.fromSnapshot(snap.rows[0].oplog) : Replica.empty();
  let through = snapOrder;
  try {
    for (const op of ops.rows) {
      replica.mergeTrusted(op.patch);
      through = Number(op.server_order);
    }
  } catch (e) {
    replica.free();
    throw e;
  }
  return { through, replica };
}
