import { byViewer, recordAudit } from '../audit/auditLog.js';
import { requireViewer } from '../auth/access.js';
import type { ShareRole } from '../auth/roles.js';
import { newShareLinkToken, tokenHash } from '../auth/tokens.js';
import type { RequestContext } from '../context.js';
import { shareLinks } from '../db/schema.js';

export interface ShareLinkRecord {
  id: string;
  documentId: string;
  role: ShareRole;
  createdBy: string;
  createdAt: Date;
  revokedAt: Date | null;
}

/** A revocable link granting `role` to whoever redeems it. The token is returned once; only its hash is kept. */
export async function createShareLink(ctx: RequestContext, input: { documentId: string; role: ShareRole }): Promise<{ token: string; link: ShareLinkRecord }> {
  const viewer = requireViewer(ctx);
  const token = newShareLinkToken();
  return ctx.services.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(shareLinks)
      .values({ documentId: input.documentId, tokenHash: tokenHash(token), role: input.role, createdBy: viewer.userId })
      .returning({ id: shareLinks.id, documentId: shareLinks.documentId, role: shareLinks.role, createdBy: shareLinks.createdBy, createdAt: shareLinks.createdAt, revokedAt: shareLinks.revokedAt });
    await recordAudit(tx, byViewer(viewer, ctx.client, { action: 'share_link.created', documentId: input.documentId, details: { linkId: row!.id, role: input.role } }));
    return { token, link: row! };
  });
}
