import { byViewer, recordAudit } from '../audit/auditLog.js';
import { isUuid, requireViewer } from '../auth/access.js';
import type { RequestContext } from '../context.js';
import { AppError, ErrorCode } from '../errors.js';

/** Revokes one of the caller's API keys: refused at once on every instance, its subscriptions end. */
export async function revokeApiKey(ctx: RequestContext, keyId: string): Promise<boolean> {
  const viewer = requireViewer(ctx);
  const done = isUuid(keyId) &&
    (await ctx.services.db.transaction(async (tx) => {
      const revoked = await ctx.services.apiKeys.revoke(tx, viewer.userId, keyId);
      if (revoked) await recordAudit(tx, byViewer(viewer, ctx.client, { action: 'api_key.revoked', details: { keyId } }));
      return revoked;
    }));
  if (!done) throw new AppError(ErrorCode.NOT_FOUND, 'no such API key (or it is already revoked)', { keyId });
  await ctx.services.access.credentialsRevoked([keyId]);
  return true;
}
