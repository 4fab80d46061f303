import { byViewer, recordAudit } from '../audit/auditLog.js';
import { requireViewer } from '../auth/access.js';
import type { RequestContext } from '../context.js';

/** Revokes the session whose token made this request; its subscriptions end on every instance. */
export async function logOut(ctx: RequestContext): Promise<boolean> {
  const viewer = requireViewer(ctx);
  const revoked = await ctx.services.sessions.revoke(viewer.userId, [viewer.credential.id]);
  await recordAudit(ctx.services.db, byViewer(viewer, ctx.client, { action: 'session.signed_out', details: { sessionId: viewer.credential.id } }));
  await ctx.services.access.credentialsRevoked(revoked);
  return true;
}
