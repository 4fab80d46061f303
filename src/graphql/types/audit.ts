import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import { auditLog } from '../../db/schema.js';
import type { RequestContext } from '../../context.js';
import { badInput } from '../../errors.js';
import { builder, scopes } from '../builder.js';
import { pageOf } from '../pagination.js';
import { DocumentRef } from './document.js';
import { UserRef } from './user.js';

type AuditRow = typeof auditLog.$inferSelect;

const AuditEntryRef = builder.objectRef<AuditRow>('AuditEntry').implement({
  description: 'Who did what, when, from where. Append-only.',
  fields: (t) => ({
    id: t.id({ resolve: (e) => String(e.id) }),
    at: t.field({ type: 'DateTime', resolve: (e) => e.at }),
    action: t.exposeString('action', { description: 'For example session.signed_in, document.deleted, share.granted, document.edited.' }),
    actorId: t.exposeID('actorId', { nullable: true }),
    apiKeyId: t.exposeID('apiKeyId', { nullable: true, description: 'The API key used, if any.' }),
    documentId: t.exposeID('documentId', { nullable: true }),
    targetUserId: t.exposeID('targetUserId', { nullable: true }),
    ip: t.exposeString('ip', { nullable: true }),
    userAgent: t.exposeString('userAgent', { nullable: true }),
    details: t.string({ description: 'JSON: ids, names and counts.', resolve: (e) => JSON.stringify(e.details) }),
  }),
});

/** Newest first, paged by id (ids only grow). */
async function auditPage(ctx: RequestContext, where: SQL, args: { first?: number | null; after?: string | null; last?: number | null; before?: string | null }) {
  if (args.before || args.last) throw badInput('the audit log pages forward only: use first and after');
  const first = args.first ?? 20;
  if (first < 0 || first > 100) throw badInput('first must be between 0 and 100', { field: 'first', max: 100 });
  const after = args.after ? Number(args.after) : null;
  if (after !== null && !Number.isSafeInteger(after)) throw badInput('after is not a cursor returned by this connection', { field: 'after' });
  const rows = await ctx.services.db
    .select()
    .from(auditLog)
    .where(and(where, after !== null ? lt(auditLog.id, after) : undefined))
    .orderBy(desc(auditLog.id))
    .limit(first + 1);
  return pageOf(rows, first, after !== null, (r) => String(r.id), (r) => r);
}

builder.objectFields(DocumentRef, (t) => ({
  auditLog: t.connection({
    type: AuditEntryRef,
    description: "What was done to this document, by whom, newest first (OWNER).",
    authScopes: (d) => scopes.own(d.meta.id, 'documents:read'),
    resolve: (d, args, ctx) => auditPage(ctx, eq(auditLog.documentId, d.meta.id), args),
  }),
}));

builder.objectFields(UserRef, (t) => ({
  auditLog: t.connection({
    type: AuditEntryRef,
    description: 'What you did, newest first: sign-ins, key use, documents, shares.',
    authScopes: (u, _a, ctx) => ({ signedIn: ctx.viewer?.userId === u.id }),
    resolve: (u, args, ctx) => auditPage(ctx, eq(auditLog.actorId, u.id), args),
  }),
}));
