import type { LiveDocument } from '../collab/liveDocument.js';
import type { RequestContext } from '../context.js';
import { AppError, ErrorCode } from '../errors.js';
import type { Access } from './documentAccess.js';
import { atLeast, type Role } from './roles.js';
import type { Viewer } from './viewer.js';

export { isUuid } from './documentAccess.js';

/** The signed-in user, or UNAUTHENTICATED. */
export function requireViewer(ctx: RequestContext): Viewer {
  if (!ctx.viewer) throw new AppError(ErrorCode.UNAUTHENTICATED, 'sign in first: send Authorization: Bearer <token>');
  return ctx.viewer;
}

/** Per request: each document's access, looked up once (the promise) and readable synchronously once known. */
const memo = new WeakMap<RequestContext, { pending: Map<string, Promise<Access>>; known: Map<string, Access> }>();

/** The caller's access to a document, looked up once per request. */
export function accessOf(ctx: RequestContext, documentId: string): Promise<Access> {
  const viewer = requireViewer(ctx);
  let m = memo.get(ctx);
  if (!m) memo.set(ctx, (m = { pending: new Map(), known: new Map() }));
  let p = m.pending.get(documentId);
  if (!p) {
    const known = m.known;
    p = ctx.services.access.of(documentId, viewer.userId).then((a) => (known.set(documentId, a), a));
    m.pending.set(documentId, p);
  }
  return p;
}

/** What accessOf found for this request, if it has run. */
export function knownAccess(ctx: RequestContext, documentId: string): Access | undefined {
  return memo.get(ctx)?.known.get(documentId);
}

/** Whether the caller may act on a document with `role` (in the trash only when `inTrash`). */
export async function hasRole(ctx: RequestContext, documentId: string, role: Role, inTrash = false): Promise<boolean> {
  if (!ctx.viewer) return false;
  const a = await accessOf(ctx, documentId);
  return a.exists && a.deleted === inTrash && atLeast(a.role, role);
}

/** The error for a caller who may not act on a document: NOT_FOUND unless they can at least see it. */
export function refusal(ctx: RequestContext, documentId: string, role: Role, inTrash = false): AppError {
  const a = knownAccess(ctx, documentId);
  if (!a || !a.exists || !a.role || a.deleted !== inTrash) return new AppError(ErrorCode.NOT_FOUND, 'document not found', { documentId });
  return new AppError(ErrorCode.FORBIDDEN, `this needs the ${role} role on the document; yours is ${a.role}`, { documentId, role: a.role, required: role });
}

/** The document if it exists, is not in the trash and the caller may see it; null otherwise (never says which). */
export async function findVisibleDocument(ctx: RequestContext, id: string): Promise<LiveDocument | null> {
  if (!(await hasRole(ctx, id, 'VIEWER'))) return null;
  return ctx.services.documents.get(id);
}

/**
 * Like findVisibleDocument, but NOT_FOUND when missing or not visible. Roles are enforced on the
 * GraphQL fields (scope-auth); this only loads what the field was allowed to touch.
 */
export async function requireDocument(ctx: RequestContext, id: string): Promise<LiveDocument> {
  const doc = await findVisibleDocument(ctx, id);
  if (!doc) throw new AppError(ErrorCode.NOT_FOUND, 'document not found', { documentId: id });
  return doc;
}
