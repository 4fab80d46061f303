import { and, eq, isNull, sql } from 'drizzle-orm';
import { byViewer, recordAudit } from '../audit/auditLog.js';
import { requireViewer } from '../auth/access.js';
import { atLeast } from '../auth/roles.js';
import { tokenHash } from '../auth/tokens.js';
import type { RequestContext } from '../context.js';
import { documentMembers, documents, shareLinks } from '../db/schema.js';
import { AppError, ErrorCode } from '../errors.js';
import { checkText } from '../validation.js';

/** Grants the caller the link's role on its document (never lowers a role they already have). Returns the document id. */
export async function redeemShareLink(ctx: RequestContext, token: string): Promise<string> {
  const viewer = requireViewer(ctx);
  checkText(token, 'token', 200);
  const documentId = await ctx.services.db.transaction(async (tx) => {
    const [link] = await tx
      .select({ id: shareLinks.id, documentId: shareLinks.documentId, role: shareLinks.role })
      .from(shareLinks)
      .innerJoin(documents, eq(documents.id, shareLinks.documentId))
      .where(and(eq(shareLinks.tokenHash, tokenHash(token)), isNull(shareLinks.revokedAt), isNull(documents.deletedAt)));
    if (!link) throw new AppError(ErrorCode.NOT_FOUND, 'this share link is not valid (revoked, or the document was deleted)');
    const [current] = await tx
      .select({ role: documentMembers.role })
      .from(documentMembers)
      .where(and(eq(documentMembers.documentId, link.documentId), eq(documentMembers.userId, viewer.userId)))
      .for('update');
    if (atLeast(current?.role, link.role)) return link.documentId;
    await tx
      .insert(documentMembers)
      .values({ documentId: link.documentId, userId: viewer.userId, role: link.role, grantedBy: null, viaLinkId: link.id })
      .onConflictDoUpdate({ target: [documentMembers.documentId, documentMembers.userId], set: { role: link.role, viaLinkId: link.id, updatedAt: sql`now()` } });
    await recordAudit(tx, byViewer(viewer, ctx.client, { action: 'share_link.redeemed', documentId: link.documentId, details: { linkId: link.id, role: link.role } }));
    return link.documentId;
  });
  await ctx.services.access.changed(documentId, [viewer.userId]);
  return documentId;
}
