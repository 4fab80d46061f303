import { z } from 'zod';
import { defineTask } from '../defineTask.js';
import { inTransaction } from '../transaction.js';
import { readReplica } from '../../src/collab/storage.js';

/** Snapshots kept per document; older ones are removed (the newest holds the full history). */
const KEEP = 2;
/** Rows a snapshot covers are folded away (document__compact) once they are this old. */
const COMPACT_AFTER_SECONDS = 3600;

/**
 * Stores the full oplog and text of a document, covering every operation row so far, so a load
 * starts from the snapshot instead of replaying a long log. Idempotent: a second run with no new
 * rows writes nothing.
 */
export const document__snapshot = defineTask('document__snapshot', z.object({ documentId: z.uuid() }), async ({ documentId }, client, helpers) => {
  const { through, replica } = await readReplica(client, documentId);
  try {
    if (through === 0) return;
    const frontier = replica.frontier();
    const oplog = Buffer.from(replica.toBytes());
    const content = replica.textAt(frontier);
    const version = replica.toRemote(frontier);
    // The snapshot, the pruning of older ones and the compaction job that follows commit together.
    const res = await inTransaction(client, async () => {
      const inserted = await client.query(
        `INSERT INTO snapshots (document_id, server_order, oplog, content, version)
         SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM documents WHERE id = $1)
         ON CONFLICT DO NOTHING`,
        [documentId, through, oplog, content, JSON.stringify(version)],
      );
      await client.query(
        `DELETE FROM snapshots WHERE document_id = $1 AND server_order < (
           SELECT min(server_order) FROM (SELECT server_order FROM snapshots WHERE document_id = $1 ORDER BY server_order DESC LIMIT ${KEEP}) s)`,
        [documentId],
      );
      // The rows it covers can be folded away once no instance can still be catching up through them.
      await client.query(
        `SELECT graphile_worker.add_job('document__compact', $1::json, job_key := $2, run_at := now() + make_interval(secs => $3))`,
        [JSON.stringify({ documentId, minAgeSeconds: COMPACT_AFTER_SECONDS }), `document__compact:${documentId}`, COMPACT_AFTER_SECONDS],
      );
      return inserted;
    });
    helpers.logger.info(`document__snapshot ${documentId}: through order ${through}, ${oplog.length} bytes${res.rowCount ? '' : ' (already stored)'}`);
  } finally {
    replica.free();
  }
});
