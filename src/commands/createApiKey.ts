import { byViewer, recordAudit } from '../audit/auditLog.js';
import { requireViewer } from '../auth/access.js';
import type { ApiKeyRecord } from '../auth/apiKeys.js';
import type { ApiScope } from '../auth/apiScopes.js';
import type { RequestContext } from '../context.js';
import { badInput } from '../errors.js';
import { checkText } from '../validation.js';

/** Creates an API key for the caller; the secret is in the result and nowhere else, ever. */
export async function createApiKey(ctx: RequestContext, input: { name: string; scopes: ApiScope[]; expiresAt?: Date | null }): Promise<{ secret: string; key: ApiKeyRecord }> {
  const viewer = requireViewer(ctx);
  const name = checkText(input.name.trim(), 'name', 100, { allowEmpty: false });
  const scopes = [...new Set(input.scopes)].sort();
  if (scopes.length === 0) throw badInput('give the key at least one scope', { field: 'scopes' });
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) throw badInput('expiresAt must be in the future', { field: 'expiresAt' });
  return ctx.services.db.transaction(async (tx) => {
    const created = await ctx.services.apiKeys.create(tx, viewer.userId, name, scopes, input.expiresAt ?? null);
    await recordAudit(tx, byViewer(viewer, ctx.client, { action: 'api_key.created', details: { keyId: created.key.id, name, scopes, prefix: created.key.prefix } }));
    return created;
  });
}
