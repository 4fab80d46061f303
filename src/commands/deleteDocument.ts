import { and, eq, isNull, sql } from 'drizzle-orm';
import { byViewer, recordAudit } from '../audit/auditLog.js';
import { requireViewer } from '../auth/access.js';
import type { RequestContext } from '../context.js';
import { documents } from '../db/schema.js';
import { AppError, ErrorCode } from '../errors.js';

/**
 * Moves a document to the trash: hidden from everyone, restorable by its owner until the retention
 * period ends, then purged (document__purge, queued here in the same transaction). Everyone's
 * subscriptions to it end with NOT_FOUND.
 */
export async function deleteDocument(ctx: RequestContext, documentId: string): Promise<void> {
  const viewer = requireViewer(ctx);
  const days = ctx.services.config.trashRetentionDays;
  const done = await ctx.services.db.transaction(async (tx) => {
    const rows = await tx
      .update(documents)
      .set({ deletedAt: sql`now()`, deletedBy: viewer.userId })
      .where(and(eq(documents.id, documentId), isNull(documents.deletedAt)))
      .returning({ id: documents.id });
    if (rows.length === 0) return false;
    await recordAudit(tx, byViewer(viewer, ctx.client, { action: 'document.deleted', documentId }));
    await tx.execute(
      sql`SELECT graphile_worker.add_job('document__purge', ${JSON.stringify({ documentId, retentionDays: days })}::json,
            job_key := ${`document__purge:${documentId}`}, run_at := now() + make_interval(secs => ${days * 86_400}))`,
    );
    return true;
  });
  if (!done) throw new AppError(ErrorCode.NOT_FOUND, 'document not found', { documentId });
  await ctx.services.access.changed(documentId, null, true);
}
