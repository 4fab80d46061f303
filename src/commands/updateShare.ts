import { and, eq, ne, sql } from 'drizzle-orm';
import { byViewer, recordAudit } from '../audit/auditLog.js';
import { isUuid, requireViewer } from '../auth/access.js';
import type { ShareRole } from '../auth/roles.js';
import type { RequestContext } from '../context.js';
import { documentMembers } from '../db/schema.js';
import { AppError, ErrorCode } from '../errors.js';

/**
 * Changes a collaborator's role (never the owner's), or with `role` null removes their access. Their
 * subscriptions end when they lose access or their role is lowered.
 */
export async function updateShare(ctx: RequestContext, input: { documentId: string; userId: string; role: ShareRole | null }): Promise<void> {
  const viewer = requireViewer(ctx);
  const { documentId, userId, role } = input;
  const done =
    isUuid(userId) &&
    (await ctx.services.db.transaction(async (tx) => {
      const where = and(eq(documentMembers.documentId, documentId), eq(documentMembers.userId, userId), ne(documentMembers.role, 'OWNER'));
      const [current] = await tx.select({ role: documentMembers.role }).from(documentMembers).where(where).for('update');
      if (!current) return false;
      if (role === null) await tx.delete(documentMembers).where(where);
      else await tx.update(documentMembers).set({ role, grantedBy: viewer.userId, updatedAt: sql`now()` }).where(where);
      await recordAudit(
        tx,
        byViewer(viewer, ctx.client, { action: role === null ? 'share.revoked' : 'share.updated', documentId, targetUserId: userId, details: { role, from: current.role } }),
      );
      return true;
    }));
  if (!done) throw new AppError(ErrorCode.NOT_FOUND, 'that user is not a collaborator on this document', { field: 'userId' });
  await ctx.services.access.changed(documentId, [userId]);
}
