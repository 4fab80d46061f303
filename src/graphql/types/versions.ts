import { and, desc, eq } from 'drizzle-orm';
import { isUuid, requireDocument } from '../../auth/access.js';
import { checkVersionText, createVersion, type VersionRow } from '../../commands/createVersion.js';
import { forkDocument } from '../../commands/forkDocument.js';
import { restoreVersion } from '../../commands/restoreVersion.js';
import { codePointLength } from '../../crdt/text.js';
import type { RemoteVersion } from '../../crdt/version.js';
import type { RequestContext } from '../../context.js';
import { versions } from '../../db/schema.js';
import { AppError, ErrorCode, badInput } from '../../errors.js';
import { builder, scopes } from '../builder.js';
import { connectionOf, cursorTime, forwardPage, olderThan } from '../pagination.js';
import { DocumentRef, documentSource, type DocumentSource } from './document.js';

/**
 * The version after every operation row committed by `at`: the rows up to the last one stamped at or
 * before it (server orders are commit order), each agent's highest seq among them. (A patch row that
 * carried several agents records the first one's range only; a later row of the others covers theirs.)
 */
async function versionAt(ctx: RequestContext, documentId: string, at: Date): Promise<RemoteVersion> {
  const { rows } = await ctx.services.pool.query<{ agent: string; seq: number }>(
    `SELECT agent, max(seq_end) - 1 AS seq FROM operations
      WHERE document_id = $1 AND seq_end > seq_start AND server_order <= (
        SELECT coalesce(max(server_order), 0) FROM operations WHERE document_id = $1 AND date_trunc('milliseconds', created_at) <= $2)
      GROUP BY agent`,
    [documentId, at],
  );
  return rows.map((r) => [r.agent, Number(r.seq)]);
}

/** The text at a saved version, from the live replica (it holds the whole history). */
async function contentOf(ctx: RequestContext, v: VersionRow): Promise<string> {
  const doc = await ctx.services.documents.get(v.documentId);
  if (!doc) throw new AppError(ErrorCode.NOT_FOUND, 'document not found');
  return doc.textAtVersion(v.frontier);
}

const VersionKindRef = builder.enumType('VersionKind', {
  values: {
    NAMED: { value: 'NAMED', description: 'Saved by a user with createVersion.' },
    AUTO: { value: 'AUTO', description: 'A burst of activity, closed after a quiet period or once it grew large.' },
  } as const,
});

const DocumentVersionRef = builder.objectRef<VersionRow>('DocumentVersion').implement({
  description: "A named point in a document's history.",
  fields: (t) => ({
    id: t.exposeID('id'),
    kind: t.field({ type: VersionKindRef, resolve: (v) => v.kind }),
    name: t.exposeString('name'),
    description: t.exposeString('description', { nullable: true }),
    version: t.field({ type: 'Version', description: 'The frontier this version saved.', resolve: (v) => v.frontier }),
    authorId: t.exposeID('authorId', { description: 'Who created the version (for AUTO, the first of its authors).' }),
    authorIds: t.exposeIDList('authorIds', { description: "Everyone whose edits it holds (AUTO), or its creator (NAMED)." }),
    createdAt: t.field({ type: 'DateTime', resolve: (v) => v.createdAt }),
    content: t.string({ description: 'The text at this version.', resolve: (v, _a, ctx) => contentOf(ctx, v) }),
    editCount: t.int({
      description: "Accepted edits in the document's history up to this version.",
      resolve: async (v, _a, ctx) =>
        v.editCount ??
        Number((await ctx.services.pool.query('SELECT coalesce(sum(edits), 0) AS n FROM operations WHERE document_id = $1 AND server_order <= $2', [v.documentId, v.serverOrder])).rows[0].n),
    }),
    length: t.int({ description: 'Characters (code points) in the text at this version.', resolve: async (v, _a, ctx) => v.length ?? codePointLength(await contentOf(ctx, v)) }),
  }),
});

builder.objectFields(DocumentRef, (t) => ({
  contentAt: t.string({
    description: 'The text at any version you have seen, or as it was at a moment (time travel). Give exactly one of `version` and `at`.',
    args: {
      version: t.arg({ type: 'Version', required: false }),
      at: t.arg({ type: 'DateTime', required: false, description: 'The text after every edit committed by then.' }),
    },
    resolve: async (d, { version, at }, ctx) => {
      if ((version == null) === (at == null)) throw badInput('give exactly one of version and at');
      const doc = d.live ?? (await ctx.services.documents.get(d.meta.id));
      if (!doc) throw new AppError(ErrorCode.NOT_FOUND, 'document not found');
      return doc.textAtVersion(version ?? (await versionAt(ctx, d.meta.id, at!)));
    },
  }),
  versions: t.connection({
    type: DocumentVersionRef,
    description: 'Named and automatic versions, newest first.',
    resolve: async (d, args, ctx) => {
      const { first, after } = forwardPage(args, 'versions');
      const rows = await ctx.services.db
        .select({
          id: versions.id,
          documentId: versions.documentId,
          name: versions.name,
          description: versions.description,
          frontier: versions.frontier,
          serverOrder: versions.serverOrder,
          authorId: versions.authorId,
          kind: versions.kind,
          authorIds: versions.authorIds,
          editCount: versions.editCount,
          length: versions.length,
          createdAt: versions.createdAt,
          cursorAt: cursorTime(versions.createdAt),
        })
        .from(versions)
        .where(and(eq(versions.documentId, d.meta.id), olderThan(versions.createdAt, versions.id, after)))
        .orderBy(desc(versions.createdAt), desc(versions.id))
        .limit(first + 1);
      return connectionOf(rows, first, after, ({ cursorAt: _c, ...v }) => v as VersionRow);
    },
  }),
}));

/** The document a version belongs to ('' when there is no such version: no one holds a role on it). */
async function documentOfVersion(ctx: RequestContext, id: string): Promise<string> {
  if (!isUuid(id)) return '';
  const [row] = await ctx.services.db.select({ documentId: versions.documentId }).from(versions).where(eq(versions.id, id));
  return row?.documentId ?? '';
}

/** A named version of a document the caller may see; NOT_FOUND otherwise (BAD_USER_INPUT for an automatic one). */
async function requireVersion(ctx: RequestContext, id: string): Promise<VersionRow> {
  const notFound = new AppError(ErrorCode.NOT_FOUND, 'version not found', { versionId: id });
  if (!isUuid(id)) throw notFound;
  const [row] = await ctx.services.db.select().from(versions).where(eq(versions.id, id));
  if (!row) throw notFound;
  await requireDocument(ctx, row.documentId).catch(() => {
    throw notFound;
  });
  if (row.kind !== 'NAMED') throw badInput('only named versions can be renamed or deleted', { versionId: id });
  return row as VersionRow;
}

const RestoreVersionPayload = builder.objectRef<{ version: RemoteVersion; document: DocumentSource }>('RestoreVersionPayload').implement({
  fields: (t) => ({
    version: t.field({ type: 'Version', description: 'The version after the restore (its new operations included).', resolve: (p) => p.version }),
    document: t.field({ type: DocumentRef, resolve: (p) => p.document }),
  }),
});

const ForkDocumentPayload = builder.objectRef<{ document: DocumentSource }>('ForkDocumentPayload').implement({
  fields: (t) => ({ document: t.field({ type: DocumentRef, resolve: (p) => p.document }) }),
});

builder.mutationFields((t) => ({
  restoreVersion: t.field({
    type: RestoreVersionPayload,
    description: "Makes the text equal to an earlier version's text with new operations of yours: nothing is rewound, and the restore can be undone by restoring the version before it.",
    args: { documentId: t.arg.id({ required: true }), version: t.arg({ type: 'Version', required: true }) },
    authScopes: (_r, { documentId }) => scopes.write(documentId),
    resolve: async (_r, args, ctx) => {
      const { version, document } = await restoreVersion(ctx, String(args.documentId), args.version);
      return { version, document: documentSource(document) };
    },
  }),
  forkDocument: t.field({
    type: ForkDocumentPayload,
    description: 'A new document of yours with the text of this one at `version` (default: now), its history kept up to there or flattened.',
    args: {
      documentId: t.arg.id({ required: true }),
      version: t.arg({ type: 'Version', required: false }),
      title: t.arg.string({ required: true }),
      keepHistory: t.arg.boolean({ required: false, defaultValue: false, description: "Keep the source's history up to `version` (blame and time travel work in the fork); false: start afresh from its text." }),
    },
    // Reading the source is enough; the copy is the caller's own (creating it needs the write scope).
    authScopes: (_r, { documentId }) => scopes.read(documentId, 'documents:write'),
    resolve: async (_r, args, ctx) => {
      const id = await forkDocument(ctx, { documentId: String(args.documentId), version: args.version ?? null, title: args.title, keepHistory: args.keepHistory ?? false });
      const live = await ctx.services.documents.get(id);
      if (!live) throw new AppError(ErrorCode.INTERNAL_SERVER_ERROR, 'forked document vanished');
      return { document: documentSource(live) };
    },
  }),
  createVersion: t.field({
    type: DocumentVersionRef,
    description: "Saves the document's current version under a name.",
    args: {
      documentId: t.arg.id({ required: true }),
      name: t.arg.string({ required: true }),
      description: t.arg.string({ required: false }),
    },
    authScopes: (_r, { documentId }) => scopes.write(documentId),
    resolve: (_r, args, ctx) => createVersion(ctx, { documentId: String(args.documentId), name: args.name, description: args.description }),
  }),
  renameVersion: t.field({
    type: DocumentVersionRef,
    args: { id: t.arg.id({ required: true }), name: t.arg.string({ required: true }), description: t.arg.string({ required: false }) },
    authScopes: async (_r, { id }, ctx) => scopes.write(await documentOfVersion(ctx, String(id))),
    resolve: async (_r, args, ctx) => {
      const v = await requireVersion(ctx, String(args.id));
      const text = checkVersionText(args.name, args.description === undefined ? v.description : args.description);
      const [row] = await ctx.services.db.update(versions).set(text).where(eq(versions.id, v.id)).returning();
      return row as VersionRow;
    },
  }),
  deleteVersion: t.boolean({
    description: 'Deletes a named version (the name only: the history it pointed at stays).',
    args: { id: t.arg.id({ required: true }) },
    authScopes: async (_r, { id }, ctx) => scopes.write(await documentOfVersion(ctx, String(id))),
    resolve: async (_r, args, ctx) => {
      const v = await requireVersion(ctx, String(args.id));
      await ctx.services.db.delete(versions).where(eq(versions.id, v.id));
      return true;
    },
  }),
}));
