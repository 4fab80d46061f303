import { and, eq, sql } from 'drizzle-orm';
import { byViewer, recordAudit } from '../audit/auditLog.js';
import { isUuid, requireViewer } from '../auth/access.js';
import type { RequestContext } from '../context.js';
import { documentMembers, documents } from '../db/schema.js';
import { AppError, ErrorCode, badInput } from '../errors.js';

/** Makes a collaborator the owner; the previous owner stays on as an EDITOR. */
export async function transferOwnership(ctx: RequestContext, input: { documentId: string; userId: string }): Promise<void> {
  const viewer = requireViewer(ctx);
  const { documentId, userId } = input;
  if (userId === viewer.userId) throw badInput('you already own this document', { field: 'userId' });
  const done =
    isUuid(userId) &&
    (await ctx.services.db.transaction(async (tx) => {
      const [target] = await tx
        .select({ role: documentMembers.role })
        .from(documentMembers)
        .where(and(eq(documentMembers.documentId, documentId), eq(documentMembers.userId, userId)))
        .for('update');
      if (!target) return false;
      await tx.update(documentMembers).set({ role: 'OWNER', updatedAt: sql`now()` }).where(and(eq(documentMembers.documentId, documentId), eq(documentMembers.userId, userId)));
      await tx
        .update(documentMembers)
        .set({ role: 'EDITOR', grantedBy: userId, updatedAt: sql`now()` })
        .where(and(eq(documentMembers.documentId, documentId), eq(documentMembers.userId, viewer.userId)));
      await tx.update(documents).set({ ownerId: userId }).where(eq(documents.id, documentId));
      await recordAudit(tx, byViewer(viewer, ctx.client, { action: 'ownership.transferred', documentId, targetUserId: userId, details: { from: viewer.userId } }));
      return true;
    }));
  if (!done) throw new AppError(ErrorCode.NOT_FOUND, 'share the document with that user first', { field: 'userId' });
  await ctx.services.access.changed(documentId, [userId, viewer.userId]);
}
