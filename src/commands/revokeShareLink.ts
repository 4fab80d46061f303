import { and, eq, isNull, sql } from 'drizzle-orm';
import { byViewer, recordAudit } from '../audit/auditLog.js';
import { isUuid, requireViewer } from '../auth/access.js';
import type { RequestContext } from '../context.js';
import { shareLinks } from '../db/schema.js';
import { AppError, ErrorCode } from '../errors.js';

/** Stops a share link from granting access (those who redeemed it keep theirs until revoked one by one). */
export async function revokeShareLink(ctx: RequestContext, input: { documentId: string; linkId: string }): Promise<void> {
  const viewer = requireViewer(ctx);
  const done =
    isUuid(input.linkId) &&
    (await ctx.services.db.transaction(async (tx) => {
      const rows = await tx
        .update(shareLinks)
        .set({ revokedAt: sql`now()` })
        .where(and(eq(shareLinks.id, input.linkId), eq(shareLinks.documentId, input.documentId), isNull(shareLinks.revokedAt)))
        .returning({ id: shareLinks.id });
      if (rows.length === 0) return false;
      await recordAudit(tx, byViewer(viewer, ctx.client, { action: 'share_link.revoked', documentId: input.documentId, details: { linkId: input.linkId } }));
      return true;
    }));
  if (!done) throw new AppError(ErrorCode.NOT_FOUND, 'no such active share link on this document', { field: 'linkId' });
}
