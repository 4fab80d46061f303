import { byViewer, recordAudit } from '../audit/auditLog.js';
import { requireViewer } from '../auth/access.js';
import type { RequestContext } from '../context.js';

/**
 * Revokes the caller's sessions: the ones named, or (ids null) every one but the current, or every
 * one including it (`includeCurrent`). Their subscriptions end on every instance. Returns how many.
 */
export async function revokeSessions(ctx: RequestContext, ids: string[] | null, includeCurrent: boolean): Promise<number> {
  const viewer = requireViewer(ctx);
  const keep = includeCurrent ? undefined : viewer.credential.id;
  const revoked = await ctx.services.sessions.revoke(viewer.userId, ids, keep);
  if (revoked.length > 0) {
    await recordAudit(ctx.services.db, byViewer(viewer, ctx.client, { action: 'session.revoked', details: { sessionIds: revoked } }));
    await ctx.services.access.credentialsRevoked(revoked);
  }
  return revoked.length;
}
