import { and, desc, eq, ilike, isNotNull, isNull, ne } from 'drizzle-orm';
import { accessOf, findVisibleDocument, hasRole, requireViewer } from '../../auth/access.js';
import { documentMembers, documents } from '../../db/schema.js';
import type { DocumentMeta, LiveDocument } from '../../collab/liveDocument.js';
import { createDocument } from '../../commands/createDocument.js';
import { deleteDocument } from '../../commands/deleteDocument.js';
import { restoreDocument } from '../../commands/restoreDocument.js';
import { updateDocument } from '../../commands/updateDocument.js';
import type { RequestContext } from '../../context.js';
import { codePointLength } from '../../crdt/text.js';
import type { RemoteVersion } from '../../crdt/version.js';
import { AppError, ErrorCode } from '../../errors.js';
import { builder, scopes } from '../builder.js';
import { connectionOf, cursorTime, forwardPage, olderThan } from '../pagination.js';

/** A document as the API returns it: its row, plus text and version read together once per request. */
export interface DocumentSource {
  meta: DocumentMeta;
  live?: LiveDocument;
  state?: Promise<{ content: string; length: number; version: RemoteVersion }>;
}

export const documentSource = (live: LiveDocument): DocumentSource => ({ meta: live.meta, live });

/** Text, length and version from one committed point, so a query never mixes two versions. */
function stateOf(src: DocumentSource, ctx: RequestContext) {
  src.state ??= (async () => {
    const live = src.live ?? (await ctx.services.documents.get(src.meta.id));
    if (!live) throw new AppError(ErrorCode.NOT_FOUND, 'document not found');
    const { content, version } = await live.read();
    return { content, version, length: codePointLength(content) };
  })();
  return src.state;
}

export const DocumentRef = builder.objectRef<DocumentSource>('Document').implement({
  description: 'A collaborative plain-text document.',
  fields: (t) => ({
    id: t.id({ resolve: (d) => d.meta.id }),
    title: t.string({ resolve: (d) => d.meta.title }),
    content: t.string({ description: 'The current text.', resolve: async (d, _a, ctx) => (await stateOf(d, ctx)).content }),
    length: t.int({ description: 'Length of the current text in Unicode code points.', resolve: async (d, _a, ctx) => (await stateOf(d, ctx)).length }),
    version: t.field({ type: 'Version', description: 'The current version (frontier).', resolve: async (d, _a, ctx) => (await stateOf(d, ctx)).version }),
    createdAt: t.field({ type: 'DateTime', resolve: (d) => d.meta.createdAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (d) => d.meta.updatedAt }),
    myRole: t.field({ type: RoleRef, description: 'Your role on this document.', resolve: async (d, _a, ctx) => (await accessOf(ctx, d.meta.id)).role! }),
    deletedAt: t.field({ type: 'DateTime', nullable: true, description: 'When it went to the trash (documents(filter: TRASH) only).', resolve: (d) => d.meta.deletedAt ?? null }),
  }),
});

export const RoleRef = builder.enumType('Role', {
  description: 'What a user may do with a document. Each role includes the ones below it.',
  values: {
    OWNER: { value: 'OWNER', description: 'Everything: share, delete, transfer, read the audit log.' },
    EDITOR: { value: 'EDITOR', description: 'Read, join, edit, apply patches, save and restore versions.' },
    VIEWER: { value: 'VIEWER', description: 'Read and subscribe.' },
  } as const,
});

const DocumentFilterRef = builder.enumType('DocumentFilter', {
  values: {
    ALL: { value: 'ALL', description: 'Every document you can see, owned or shared.' },
    OWNED: { value: 'OWNED', description: 'Documents you own.' },
    SHARED_WITH_ME: { value: 'SHARED_WITH_ME', description: 'Documents others shared with you.' },
    TRASH: { value: 'TRASH', description: 'Your deleted documents, restorable until they are purged.' },
  } as const,
});

const CreateDocumentInput = builder.inputType('CreateDocumentInput', {
  fields: (t) => ({
    title: t.string({ required: true }),
    content: t.string({ required: false, description: 'Initial text, written by an agent of the creator.' }),
  }),
});

const CreateDocumentPayload = builder.objectRef<{ document: DocumentSource }>('CreateDocumentPayload').implement({
  fields: (t) => ({ document: t.field({ type: DocumentRef, resolve: (p) => p.document }) }),
});

builder.queryFields((t) => ({
  document: t.field({
    type: DocumentRef,
    nullable: true,
    description: 'A document; null when it does not exist or is not visible to the caller.',
    args: { id: t.arg.id({ required: true }) },
    authScopes: { $all: { signedIn: true, apiScope: 'documents:read' } },
    resolve: async (_r, { id }, ctx) => {
      if (!(await hasRole(ctx, String(id), 'VIEWER'))) return null;
      // Not resident here and its newest snapshot is current: read it without loading the history.
      const stored = await ctx.services.documents.storedState(String(id));
      if (stored) {
        const { content, version } = stored;
        return { meta: stored.meta, state: Promise.resolve({ content, version, length: codePointLength(content) }) };
      }
      const live = await findVisibleDocument(ctx, String(id));
      return live ? documentSource(live) : null;
    },
  }),
  documents: t.connection({
    type: DocumentRef,
    description: 'Documents you can see, newest first: all of them, or owned, shared with you, or in your trash; optionally only titles containing `search`.',
    args: {
      filter: t.arg({ type: DocumentFilterRef, required: false, defaultValue: 'ALL' }),
      search: t.arg.string({ required: false, description: 'Case-insensitive substring of the title.' }),
    },
    authScopes: { $all: { signedIn: true, apiScope: 'documents:read' } },
    resolve: async (_r, args, ctx) => {
      const viewer = requireViewer(ctx);
      const { first, after } = forwardPage(args, 'documents');
      const filter = args.filter ?? 'ALL';
      const which = {
        ALL: isNull(documents.deletedAt),
        OWNED: and(isNull(documents.deletedAt), eq(documentMembers.role, 'OWNER')),
        SHARED_WITH_ME: and(isNull(documents.deletedAt), ne(documentMembers.role, 'OWNER')),
        TRASH: and(isNotNull(documents.deletedAt), eq(documentMembers.role, 'OWNER')),
      }[filter];
      const search = args.search ? ilike(documents.title, `%${args.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`) : undefined;
      const rows = await ctx.services.db
        .select({
          id: documents.id,
          ownerId: documents.ownerId,
          title: documents.title,
          createdAt: documents.createdAt,
          updatedAt: documents.updatedAt,
          deletedAt: documents.deletedAt,
          cursorAt: cursorTime(documents.createdAt),
        })
        .from(documentMembers)
        .innerJoin(documents, eq(documents.id, documentMembers.documentId))
        .where(and(eq(documentMembers.userId, viewer.userId), which, search, olderThan(documents.createdAt, documents.id, after)))
        .orderBy(desc(documents.createdAt), desc(documents.id))
        .limit(first + 1);
      return connectionOf(rows, first, after, ({ cursorAt: _c, ...meta }) => ({ meta }) as DocumentSource);
    },
  }),
}));

const UpdateDocumentInput = builder.inputType('UpdateDocumentInput', {
  fields: (t) => ({
    documentId: t.id({ required: true }),
    title: t.string({ required: true }),
  }),
});

/** The document as it is now (re-read: a command may have changed its row). */
async function currentSource(ctx: RequestContext, id: string): Promise<DocumentSource> {
  const meta = await ctx.services.documents.meta(id);
  if (!meta) throw new AppError(ErrorCode.NOT_FOUND, 'document not found');
  return { meta };
}

builder.mutationFields((t) => ({
  updateDocument: t.field({
    type: DocumentRef,
    description: "Renames a document (EDITOR). Its text changes only through edits.",
    args: { input: t.arg({ type: UpdateDocumentInput, required: true }) },
    authScopes: (_r, { input }) => scopes.write(input.documentId),
    resolve: async (_r, { input }, ctx) => {
      await updateDocument(ctx, { documentId: String(input.documentId), title: input.title });
      return currentSource(ctx, String(input.documentId));
    },
  }),
  deleteDocument: t.field({
    type: DocumentRef,
    description: `Moves a document to the trash (OWNER): hidden from everyone, restorable with restoreDocument until it is purged with its whole history.`,
    args: { documentId: t.arg.id({ required: true }) },
    authScopes: (_r, { documentId }) => scopes.own(documentId, 'documents:write'),
    resolve: async (_r, { documentId }, ctx) => {
      await deleteDocument(ctx, String(documentId));
      return currentSource(ctx, String(documentId));
    },
  }),
  restoreDocument: t.field({
    type: DocumentRef,
    description: 'Takes a document out of the trash (OWNER).',
    args: { documentId: t.arg.id({ required: true }) },
    authScopes: (_r, { documentId }) => scopes.own(documentId, 'documents:write', true),
    resolve: async (_r, { documentId }, ctx) => {
      await restoreDocument(ctx, String(documentId));
      return currentSource(ctx, String(documentId));
    },
  }),
}));

builder.mutationField('createDocument', (t) =>
  t.field({
    type: CreateDocumentPayload,
    args: { input: t.arg({ type: CreateDocumentInput, required: true }) },
    authScopes: { $all: { signedIn: true, apiScope: 'documents:write' } },
    resolve: async (_r, { input }, ctx) => {
      const id = await createDocument(ctx, input);
      const live = await ctx.services.documents.get(id);
      if (!live) throw new AppError(ErrorCode.INTERNAL_SERVER_ERROR, 'created document vanished');
      return { document: documentSource(live) };
    },
  }),
);
