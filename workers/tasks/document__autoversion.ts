import type pg from 'pg';
import { z } from 'zod';
import { defineTask } from '../defineTask.js';
import { inTransaction } from '../transaction.js';
import { readReplica } from '../../src/collab/storage.js';

const Payload = z.object({ documentId: z.uuid(), quietMs: z.number().int().min(0), maxOps: z.number().int().positive() });
type Payload = z.infer<typeof Payload>;

/** "Ada", "Ada and Bo", "Ada, Bo and 3 others". */
function namesOf(names: string[]): string {
  if (names.length <= 2) return names.join(' and ');
  return `${names.slice(0, 2).join(', ')} and ${names.length - 2} other${names.length > 3 ? 's' : ''}`;
}

const requeue = (client: pg.PoolClient, p: Payload, runAt: Date | string) =>
  client.query(`SELECT graphile_worker.add_job('document__autoversion', $1::json, job_key := $2, run_at := $3)`, [JSON.stringify(p), `document__autoversion:${p.documentId}`, runAt]);

/**
 * Closes a document's burst of activity (its operation rows after the last automatic version) into an
 * automatic version, once the document has been quiet for `quietMs` or the burst reached `maxOps`
 * rows; otherwise comes back when it will have been quiet long enough. Idempotent: with no new rows
 * it does nothing.
 */
export const document__autoversion = defineTask('document__autoversion', Payload, async (p, client, helpers) => {
  const { rows } = await client.query<{ op_count: string; versioned_order: string; quiet_until: Date; quiet: boolean }>(
    `SELECT op_count, versioned_order, updated_at + make_interval(secs => $2 / 1000.0) AS quiet_until,
            updated_at + make_interval(secs => $2 / 1000.0) <= now() AS quiet
       FROM documents WHERE id = $1`,
    [p.documentId, p.quietMs],
  );
  const doc = rows[0];
  if (!doc || Number(doc.op_count) <= Number(doc.versioned_order)) return;
  if (!doc.quiet && Number(doc.op_count) - Number(doc.versioned_order) < p.maxOps) {
    await requeue(client, p, doc.quiet_until);
    return;
  }
  // The version's frontier comes from the stored history itself (exact for every kind of row).
  const { through, replica } = await readReplica(client, p.documentId);
  let frontier: [string, number][];
  let length: number;
  try {
    frontier = replica.toRemote(replica.frontier());
    length = replica.lengthAt(replica.frontier());
  } finally {
    replica.free();
  }
  const closed = await inTransaction(client, async () => {
    const locked = await client.query<{ versioned_order: string; op_count: string }>('SELECT versioned_order, op_count FROM documents WHERE id = $1 FOR UPDATE', [p.documentId]);
    const from = Number(locked.rows[0]?.versioned_order ?? through);
    if (from >= through) return null; // another run closed it already
    const authors = await client.query<{ id: string; display_name: string }>(
      `SELECT u.id, u.display_name FROM users u
        WHERE u.id IN (SELECT author_id FROM operations WHERE document_id = $1 AND server_order > $2 AND server_order <= $3)
        ORDER BY u.display_name, u.id`,
      [p.documentId, from, through],
    );
    const ids = authors.rows.map((a) => a.id);
    await client.query(
      `INSERT INTO versions (document_id, kind, name, frontier, server_order, author_id, author_ids, length, edit_count)
       VALUES ($1, 'AUTO', $2, $3, $4, $5, $6, $7, (SELECT coalesce(sum(edits), 0) FROM operations WHERE document_id = $1 AND server_order <= $4))`,
      [p.documentId, `Edits by ${namesOf(authors.rows.map((a) => a.display_name))}`, JSON.stringify(frontier), through, ids[0], JSON.stringify(ids), length],
    );
    await client.query('UPDATE documents SET versioned_order = $2 WHERE id = $1', [p.documentId, through]);
    // The burst is also the audit log's edit batch: one record per author, with counts, not one per keystroke.
    await client.query(
      `INSERT INTO audit_log (actor_id, action, document_id, at, details)
       SELECT author_id, 'document.edited', $1, max(created_at),
              jsonb_build_object('operations', count(*), 'inserted', sum(inserted), 'deleted', sum(deleted), 'from', min(created_at), 'to', max(created_at))
         FROM operations WHERE document_id = $1 AND server_order > $2 AND server_order <= $3
        GROUP BY author_id`,
      [p.documentId, from, through],
    );
    // Rows committed while the history was read start the next burst, which nothing queued a job for.
    if (Number(locked.rows[0]!.op_count) > through) await requeue(client, p, doc.quiet_until);
    return { from, authors: ids.length };
  });
  if (closed) helpers.logger.info(`document__autoversion ${p.documentId}: rows ${closed.from + 1}..${through} by ${closed.authors} author(s)`);
});
