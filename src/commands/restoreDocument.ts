import { and, eq, isNotNull } from 'drizzle-orm';
import { byViewer, recordAudit } from '../audit/auditLog.js';
import { requireViewer } from '../auth/access.js';
import type { RequestContext } from '../context.js';
import { documents } from '../db/schema.js';
import { AppError, ErrorCode } from '../errors.js';

/** Takes a document out of the trash, as it was (its purge job finds it restored and does nothing). */
export async function restoreDocument(ctx: RequestContext, documentId: string): Promise<void> {
  const viewer = requireViewer(ctx);
  const done = await ctx.services.db.transaction(async (tx) => {
    const rows = await tx
      .update(documents)
      .set({ deletedAt: null, deletedBy: null })
      .where(and(eq(documents.id, documentId), isNotNull(documents.deletedAt)))
      .returning({ id: documents.id });
    if (rows.length === 0) return false;
    await recordAudit(tx, byViewer(viewer, ctx.client, { action: 'document.restored', documentId }));
    return true;
  });
  if (!done) throw new AppError(ErrorCode.NOT_FOUND, 'document not in the trash', { documentId });
  await ctx.services.access.changed(documentId, null);
}
