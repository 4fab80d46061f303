import { limitEdits } from '../auth/rateLimits.js';
import { requireDocument } from '../auth/access.js';
import type { LiveDocument } from '../collab/liveDocument.js';
import type { RequestContext } from '../context.js';
import type { RemoteVersion } from '../crdt/version.js';
import { AppError, ErrorCode, badInput } from '../errors.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes standard base64 strictly (Node's decoder skips bad characters). */
export function decodePatch(patch: string, maxBytes: number): Uint8Array {
  if (patch.length === 0) throw badInput('patch is empty', { field: 'patch' });
  if (patch.length > Math.ceil(maxBytes / 3) * 4) throw new AppError(ErrorCode.PAYLOAD_TOO_LARGE, `patch is larger than ${maxBytes} bytes`, { field: 'patch', max: maxBytes });
  if (!BASE64.test(patch)) throw badInput('patch is not valid base64', { field: 'patch' });
  return Buffer.from(patch, 'base64');
}

/** Merges a diamond-types patch of the caller's operations; returns once they are committed. */
export async function applyPatch(ctx: RequestContext, input: { documentId: string; patch: string }): Promise<{ version: RemoteVersion; document: LiveDocument }> {
  await limitEdits(ctx);
  const doc = await requireDocument(ctx, input.documentId);
  const bytes = decodePatch(input.patch, ctx.services.config.limits.maxPatchBytes);
  const result = await doc.patch(ctx.viewer!.userId, bytes);
  return { version: result.version, document: doc };
}
