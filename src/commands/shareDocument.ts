import { and, eq, sql } from 'drizzle-orm';
import { byViewer, recordAudit } from '../audit/auditLog.js';
import { requireViewer } from '../auth/access.js';
import type { ShareRole } from '../auth/roles.js';
import type { RequestContext } from '../context.js';
import { documentMembers, users } from '../db/schema.js';
import { AppError, ErrorCode, badInput } from '../errors.js';
import { checkEmail } from '../validation.js';

/** Gives the user with this email a role on the document (or changes the one they have). Returns their id. */
export async function shareDocument(ctx: RequestContext, input: { documentId: string; email: string; role: ShareRole }): Promise<string> {
  const viewer = requireViewer(ctx);
  const email = checkEmail(input.email);
  const userId = await ctx.services.db.transaction(async (tx) => {
    const [user] = await tx.select({ id: users.id }).from(users).where(eq(users.email, email));
    if (!user) throw new AppError(ErrorCode.NOT_FOUND, 'no account has this email; ask them to sign up first', { field: 'email' });
    const [current] = await tx
      .select({ role: documentMembers.role })
      .from(documentMembers)
      .where(and(eq(documentMembers.documentId, input.documentId), eq(documentMembers.userId, user.id)))
      .for('update');
    if (current?.role === 'OWNER') throw badInput('the owner already has every right; use transferOwnership to hand it over', { field: 'email' });
    if (current?.role === input.role) return user.id;
    await tx
      .insert(documentMembers)
      .values({ documentId: input.documentId, userId: user.id, role: input.role, grantedBy: viewer.userId })
      .onConflictDoUpdate({ target: [documentMembers.documentId, documentMembers.userId], set: { role: input.role, grantedBy: viewer.userId, updatedAt: sql`now()` } });
    await recordAudit(
      tx,
      byViewer(viewer, ctx.client, { action: current ? 'share.updated' : 'share.granted', documentId: input.documentId, targetUserId: user.id, details: { role: input.role, from: current?.role ?? null } }),
    );
    return user.id;
  });
  await ctx.services.access.changed(input.documentId, [userId]);
  return userId;
}
