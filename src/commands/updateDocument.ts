import { and, eq, isNull, sql } from 'drizzle-orm';
import { byViewer, recordAudit } from '../audit/auditLog.js';
import { requireViewer } from '../auth/access.js';
import type { RequestContext } from '../context.js';
import { documents } from '../db/schema.js';
import { AppError, ErrorCode } from '../errors.js';
import { checkText } from '../validation.js';

/** Renames a document (its text changes through edits only). */
export async function updateDocument(ctx: RequestContext, input: { documentId: string; title: string }): Promise<void> {
  const viewer = requireViewer(ctx);
  const title = checkText(input.title, 'title', ctx.services.config.limits.maxTitleChars);
  const updated = await ctx.services.db.transaction(async (tx) => {
    const [row] = await tx
      .select({ title: documents.title })
      .from(documents)
      .where(and(eq(documents.id, input.documentId), isNull(documents.deletedAt)))
      .for('update');
    if (!row) return false;
    await tx.update(documents).set({ title, updatedAt: sql`now()` }).where(eq(documents.id, input.documentId));
    await recordAudit(tx, byViewer(viewer, ctx.client, { action: 'document.renamed', documentId: input.documentId, details: { from: row.title, to: title } }));
    return true;
  });
  if (!updated) throw new AppError(ErrorCode.NOT_FOUND, 'document not found', { documentId: input.documentId });
  await ctx.services.access.changed(input.documentId, []);
}
