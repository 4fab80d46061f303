import { and, desc, eq } from 'drizzle-orm';
import { findVisibleDocument, requireViewer } from '../../auth/access.js';
import { documents } from '../../db/schema.js';
import type { DocumentMeta, LiveDocument } from '../../collab/liveDocument.js';
import { createDocument } from '../../commands/createDocument.js';
import type { RequestContext } from '../../context.js';
import { codePointLength } from '../../crdt/text.js';
import type { RemoteVersion } from '../../crdt/version.js';
import { AppError, ErrorCode } from '../../errors.js';
import { builder } from '../builder.js';
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
    const { content, version } = live.snapshot();
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
  }),
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
    resolve: async (_r, { id }, ctx) => {
      const live = await findVisibleDocument(ctx, String(id));
      return live ? documentSource(live) : null;
    },
  }),
  documents: t.connection({
    type: DocumentRef,
    description: "The caller's documents, newest first.",
    resolve: async (_r, args, ctx) => {
      const viewer = requireViewer(ctx);
      const { first, after } = forwardPage(args, 'documents');
      const rows = await ctx.services.db
        .select({ id: documents.id, ownerId: documents.ownerId, title: documents.title, createdAt: documents.createdAt, updatedAt: documents.updatedAt, cursorAt: cursorTime(documents.createdAt) })
        .from(documents)
        .where(and(eq(documents.ownerId, viewer.userId), olderThan(documents.createdAt, documents.id, after)))
        .orderBy(desc(documents.createdAt), desc(documents.id))
        .limit(first + 1);
      return connectionOf(rows, first, after, ({ cursorAt: _c, ...meta }) => ({ meta }) as DocumentSource);
    },
  }),
}));

builder.mutationField('createDocument', (t) =>
  t.field({
    type: CreateDocumentPayload,
    args: { input: t.arg({ type: CreateDocumentInput, required: true }) },
    resolve: async (_r, { input }, ctx) => {
      const id = await createDocument(ctx, input);
      const live = await ctx.services.documents.get(id);
      if (!live) throw new AppError(ErrorCode.INTERNAL_SERVER_ERROR, 'created document vanished');
      return { document: documentSource(live) };
    },
  }),
);
