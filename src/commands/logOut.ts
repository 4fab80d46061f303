import { requireViewer } from '../auth/access.js';
import type { RequestContext } from '../context.js';

/** Revokes the session whose token made this request. */
export async function logOut(ctx: RequestContext): Promise<boolean> {
  const viewer = requireViewer(ctx);
  await ctx.services.sessions.revoke(viewer.sessionId);
  return true;
}
