import { and, asc, desc, eq, isNull } from 'drizzle-orm';
import type { ShareRole } from '../../auth/roles.js';
import { createShareLink, type ShareLinkRecord } from '../../commands/createShareLink.js';
import { redeemShareLink } from '../../commands/redeemShareLink.js';
import { revokeShareLink } from '../../commands/revokeShareLink.js';
import { shareDocument } from '../../commands/shareDocument.js';
import { transferOwnership } from '../../commands/transferOwnership.js';
import { updateShare } from '../../commands/updateShare.js';
import type { RequestContext } from '../../context.js';
import { documentMembers, shareLinks, users } from '../../db/schema.js';
import { AppError, ErrorCode } from '../../errors.js';
import { builder, scopes } from '../builder.js';
import { DocumentRef, RoleRef, documentSource } from './document.js';

interface CollaboratorRow {
  userId: string;
  email: string;
  displayName: string;
  role: 'OWNER' | 'EDITOR' | 'VIEWER';
  since: Date;
}

const ShareRoleRef = builder.enumType('ShareRole', {
  description: 'A role a share or link may grant (ownership moves only with transferOwnership).',
  values: { EDITOR: { value: 'EDITOR' }, VIEWER: { value: 'VIEWER' } } as const,
});

const CollaboratorRef = builder.objectRef<CollaboratorRow>('Collaborator').implement({
  description: 'Someone with access to a document, and their role.',
  fields: (t) => ({
    userId: t.exposeID('userId'),
    email: t.exposeString('email'),
    displayName: t.exposeString('displayName'),
    role: t.field({ type: RoleRef, resolve: (c) => c.role }),
    since: t.field({ type: 'DateTime', description: 'When they got this access.', resolve: (c) => c.since }),
  }),
});

const ShareLinkRef = builder.objectRef<ShareLinkRecord>('ShareLink').implement({
  description: 'A revocable link that grants its role to whoever redeems it.',
  fields: (t) => ({
    id: t.exposeID('id'),
    role: t.field({ type: ShareRoleRef, resolve: (l) => l.role }),
    createdAt: t.field({ type: 'DateTime', resolve: (l) => l.createdAt }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, resolve: (l) => l.revokedAt }),
  }),
});

const CreateShareLinkPayload = builder.objectRef<{ token: string; link: ShareLinkRecord }>('CreateShareLinkPayload').implement({
  fields: (t) => ({
    token: t.exposeString('token', { description: 'Give this to whoever should redeem the link (redeemShareLink). Shown once.' }),
    link: t.field({ type: ShareLinkRef, resolve: (p) => p.link }),
  }),
});

async function collaborators(ctx: RequestContext, documentId: string, userId?: string): Promise<CollaboratorRow[]> {
  return ctx.services.db
    .select({ userId: users.id, email: users.email, displayName: users.displayName, role: documentMembers.role, since: documentMembers.updatedAt })
    .from(documentMembers)
    .innerJoin(users, eq(users.id, documentMembers.userId))
    .where(and(eq(documentMembers.documentId, documentId), userId ? eq(documentMembers.userId, userId) : undefined))
    .orderBy(asc(documentMembers.createdAt), asc(users.id));
}

async function collaborator(ctx: RequestContext, documentId: string, userId: string): Promise<CollaboratorRow> {
  const [c] = await collaborators(ctx, documentId, userId);
  if (!c) throw new AppError(ErrorCode.NOT_FOUND, 'not a collaborator');
  return c;
}

builder.objectFields(DocumentRef, (t) => ({
  collaborators: t.field({
    type: [CollaboratorRef],
    description: 'Everyone with access, owner first, and their roles.',
    resolve: (d, _a, ctx) => collaborators(ctx, d.meta.id),
  }),
  shareLinks: t.field({
    type: [ShareLinkRef],
    description: 'Active share links (OWNER).',
    authScopes: (d) => scopes.own(d.meta.id),
    resolve: (d, _a, ctx) =>
      ctx.services.db
        .select({ id: shareLinks.id, documentId: shareLinks.documentId, role: shareLinks.role, createdBy: shareLinks.createdBy, createdAt: shareLinks.createdAt, revokedAt: shareLinks.revokedAt })
        .from(shareLinks)
        .where(and(eq(shareLinks.documentId, d.meta.id), isNull(shareLinks.revokedAt)))
        .orderBy(desc(shareLinks.createdAt)),
  }),
}));

builder.mutationFields((t) => ({
  shareDocument: t.field({
    type: CollaboratorRef,
    description: 'Gives the user with this email a role on the document, or changes theirs (OWNER).',
    args: { documentId: t.arg.id({ required: true }), email: t.arg.string({ required: true }), role: t.arg({ type: ShareRoleRef, required: true }) },
    authScopes: (_r, { documentId }) => scopes.own(documentId),
    resolve: async (_r, args, ctx) => {
      const userId = await shareDocument(ctx, { documentId: String(args.documentId), email: args.email, role: args.role as ShareRole });
      return collaborator(ctx, String(args.documentId), userId);
    },
  }),
  updateShare: t.field({
    type: CollaboratorRef,
    description: "Changes a collaborator's role (OWNER). Lowering it ends their open subscriptions.",
    args: { documentId: t.arg.id({ required: true }), userId: t.arg.id({ required: true }), role: t.arg({ type: ShareRoleRef, required: true }) },
    authScopes: (_r, { documentId }) => scopes.own(documentId),
    resolve: async (_r, args, ctx) => {
      await updateShare(ctx, { documentId: String(args.documentId), userId: String(args.userId), role: args.role as ShareRole });
      return collaborator(ctx, String(args.documentId), String(args.userId));
    },
  }),
  revokeShare: t.boolean({
    description: "Removes a collaborator's access (OWNER). Their subscriptions end within a second and their next edit is refused.",
    args: { documentId: t.arg.id({ required: true }), userId: t.arg.id({ required: true }) },
    authScopes: (_r, { documentId }) => scopes.own(documentId),
    resolve: async (_r, args, ctx) => {
      await updateShare(ctx, { documentId: String(args.documentId), userId: String(args.userId), role: null });
      return true;
    },
  }),
  transferOwnership: t.field({
    type: [CollaboratorRef],
    description: 'Makes a collaborator the owner (OWNER); you stay on as an EDITOR.',
    args: { documentId: t.arg.id({ required: true }), userId: t.arg.id({ required: true }) },
    authScopes: (_r, { documentId }) => scopes.own(documentId),
    resolve: async (_r, args, ctx) => {
      await transferOwnership(ctx, { documentId: String(args.documentId), userId: String(args.userId) });
      return collaborators(ctx, String(args.documentId));
    },
  }),
  createShareLink: t.field({
    type: CreateShareLinkPayload,
    description: 'A revocable link granting VIEWER or EDITOR to whoever redeems it (OWNER).',
    args: { documentId: t.arg.id({ required: true }), role: t.arg({ type: ShareRoleRef, required: true }) },
    authScopes: (_r, { documentId }) => scopes.own(documentId),
    resolve: (_r, args, ctx) => createShareLink(ctx, { documentId: String(args.documentId), role: args.role as ShareRole }),
  }),
  revokeShareLink: t.boolean({
    description: 'Stops a link from granting access (OWNER). Access already granted through it stays until revoked.',
    args: { documentId: t.arg.id({ required: true }), linkId: t.arg.id({ required: true }) },
    authScopes: (_r, { documentId }) => scopes.own(documentId),
    resolve: async (_r, args, ctx) => {
      await revokeShareLink(ctx, { documentId: String(args.documentId), linkId: String(args.linkId) });
      return true;
    },
  }),
  redeemShareLink: t.field({
    type: DocumentRef,
    description: "Grants you the link's role on its document (never lowers the role you have).",
    args: { token: t.arg.string({ required: true }) },
    authScopes: { session: true },
    resolve: async (_r, { token }, ctx) => {
      const id = await redeemShareLink(ctx, token);
      const live = await ctx.services.documents.get(id);
      if (!live) throw new AppError(ErrorCode.NOT_FOUND, 'document not found');
      return documentSource(live);
    },
  }),
}));
