import type { LiveDocument } from '../collab/liveDocument.js';
import type { RequestContext } from '../context.js';
import { AppError, ErrorCode } from '../errors.js';
import type { Viewer } from './sessions.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(id: string): boolean {
  return UUID.test(id);
}

/** The signed-in user, or UNAUTHENTICATED. */
export function requireViewer(ctx: RequestContext): Viewer {
  if (!ctx.viewer) throw new AppError(ErrorCode.UNAUTHENTICATED, 'sign in first: send Authorization: Bearer <token>');
  return ctx.viewer;
}

/** The document if it exists and the caller may see it; null otherwise (never says which). */
export async function findVisibleDocument(ctx: RequestContext, id: string): Promise<LiveDocument | null> {
  const viewer = requireViewer(ctx);
  if (!isUuid(id)) return null;
  const doc = await ctx.services.documents.get(id);
  if (!doc || doc.meta.ownerId !== viewer.userId) return null;
  return doc;
}

/** Like findVisibleDocument, but NOT_FOUND when missing or not visible. */
export async function requireDocument(ctx: RequestContext, id: string): Promise<LiveDocument> {
  const doc = await findVisibleDocument(ctx, id);
  if (!doc) throw new AppError(ErrorCode.NOT_FOUND, 'document not found', { documentId: id });
  return doc;
}
