import type { Task } from 'graphile-worker';
import type pg from 'pg';
import { inTransaction } from '../transaction.js';

interface Payload {
  /** One document (queued by deleteDocument); absent: every document past retention (the hourly sweep). */
  documentId?: string;
  /** Days a deleted document is kept in the trash. */
  retentionDays: number;
}

function parse(payload: unknown): Payload | null {
  const p = payload as Partial<Payload> | null;
  if (!p || typeof p.retentionDays !== 'number' || !(p.retentionDays > 0)) return null;
  if (p.documentId !== undefined && typeof p.documentId !== 'string') return null;
  return p as Payload;
}

/**
 * Deletes documents that have been in the trash longer than the retention period, with their whole
 * history (operations, snapshots, versions, agents, members and links go with them by cascade).
 * A document restored meanwhile is not in the trash and is left alone; running twice purges nothing more.
 */
export const document__purge: Task = async (payload, helpers) => {
  const p = parse(payload);
  if (!p) {
    helpers.logger.error(`document__purge: bad payload ${JSON.stringify(payload)}`);
    return;
  }
  await helpers.withPgClient(async (c) => {
    const client = c as unknown as pg.PoolClient;
    await inTransaction(client, async () => {
      const { rows } = await client.query<{ id: string; owner_id: string; title: string }>(
        `DELETE FROM documents
          WHERE deleted_at IS NOT NULL AND deleted_at <= now() - make_interval(secs => $2 * 86400)
            AND ($1::uuid IS NULL OR id = $1::uuid)
          RETURNING id, owner_id, title`,
        [p.documentId ?? null, p.retentionDays],
      );
      for (const r of rows) {
        await client.query(`INSERT INTO audit_log (actor_id, action, document_id, details) VALUES (NULL, 'document.purged', $1, $2)`, [r.id, JSON.stringify({ ownerId: r.owner_id, title: r.title })]);
      }
      if (rows.length > 0) helpers.logger.info(`document__purge: ${rows.length} document(s) purged`);
    });
  });
};
