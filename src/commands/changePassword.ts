import { eq } from 'drizzle-orm';
import { byViewer, recordAudit } from '../audit/auditLog.js';
import { requireViewer } from '../auth/access.js';
import { hashPassword, verifyPassword } from '../auth/passwords.js';
import type { RequestContext } from '../context.js';
import { users } from '../db/schema.js';
import { AppError, ErrorCode } from '../errors.js';
import { checkPassword, checkText } from '../validation.js';

/** Changes the caller's password (the current one proves it is them) and signs out every other session. */
export async function changePassword(ctx: RequestContext, input: { currentPassword: string; newPassword: string }): Promise<number> {
  const viewer = requireViewer(ctx);
  checkText(input.currentPassword, 'currentPassword', 1024);
  const next = checkPassword(input.newPassword);
  await ctx.services.rateLimits.consume(['authPerAccount', viewer.email]);
  const [row] = await ctx.services.db.select({ hash: users.passwordHash }).from(users).where(eq(users.id, viewer.userId));
  if (!row || !(await verifyPassword(row.hash, input.currentPassword))) throw new AppError(ErrorCode.FORBIDDEN, 'the current password is wrong', { field: 'currentPassword' });
  const hash = await hashPassword(next);
  await ctx.services.db.transaction(async (tx) => {
    await tx.update(users).set({ passwordHash: hash }).where(eq(users.id, viewer.userId));
    await recordAudit(tx, byViewer(viewer, ctx.client, { action: 'password.changed' }));
  });
  const revoked = await ctx.services.sessions.revoke(viewer.userId, null, viewer.credential.id);
  await ctx.services.access.credentialsRevoked(revoked);
  return revoked.length;
}
