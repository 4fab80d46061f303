import { z } from 'zod';
import { defineTask } from '../defineTask.js';
import { inTransaction } from '../transaction.js';

const Payload = z.object({
  /** One document (queued by deleteDocument); absent: every document past retention (the hourly sweep). */
  documentId: z.uuid().optional(),
  /** Days a deleted document is kept in the trash. */
  retentionDays: z.number().positive(),
});

/**
 * Deletes documents that have been in the trash longer than the retention period, with their whole
 * history (operations, snapshots, versions, agents, members and links go with them by cascade).
 * A document restored meanwhile is not in the trash and is left alone; running twice purges nothing more.
 */
export const document__purge = defineTask('document__purge', Payload, async (p, client, helpers) => {
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
