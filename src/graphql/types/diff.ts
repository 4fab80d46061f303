import type { TextOp } from '../../crdt/replica.js';
import { lineHunks, textDiffOps, type LineHunk } from '../../crdt/textDiff.js';
import type { RemoteVersion } from '../../crdt/version.js';
import { AppError, ErrorCode } from '../../errors.js';
import { builder } from '../builder.js';
import { DocumentRef } from './document.js';
import { TextOpRef } from './edit.js';

interface DocumentDiff {
  from: RemoteVersion;
  to: RemoteVersion;
  ops: TextOp[];
  hunks: LineHunk[];
}

const DiffHunkRef = builder.objectRef<LineHunk>('DiffHunk').implement({
  description: 'Lines that changed, with context, as in a unified diff.',
  fields: (t) => ({
    oldStart: t.exposeInt('oldStart', { description: 'First line in the old text (1-based).' }),
    oldLines: t.exposeInt('oldLines'),
    newStart: t.exposeInt('newStart', { description: 'First line in the new text (1-based).' }),
    newLines: t.exposeInt('newLines'),
    lines: t.exposeStringList('lines', { description: "Each line prefixed with ' ' (unchanged), '-' (deleted) or '+' (inserted)." }),
  }),
});

const DocumentDiffRef = builder.objectRef<DocumentDiff>('DocumentDiff').implement({
  fields: (t) => ({
    from: t.field({ type: 'Version', resolve: (d) => d.from }),
    to: t.field({ type: 'Version', resolve: (d) => d.to }),
    ops: t.field({ type: [TextOpRef], description: 'Positional ops (code points) turning the text at `from` into the text at `to`.', resolve: (d) => d.ops }),
    hunks: t.field({ type: [DiffHunkRef], description: 'Line-level hunks for display.', resolve: (d) => d.hunks }),
  }),
});

builder.objectField(DocumentRef, 'diff', (t) =>
  t.field({
    type: DocumentDiffRef,
    description: 'What changed between two versions (`to` omitted: the current version).',
    args: {
      from: t.arg({ type: 'Version', required: true }),
      to: t.arg({ type: 'Version', required: false }),
    },
    resolve: async (d, args, ctx) => {
      const doc = d.live ?? (await ctx.services.documents.get(d.meta.id));
      if (!doc) throw new AppError(ErrorCode.NOT_FOUND, 'document not found');
      const now = args.to ? null : await doc.read();
      const to = args.to ?? now!.version;
      const [a, b] = await Promise.all([doc.textAtVersion(args.from), now ? now.content : doc.textAtVersion(to)]);
      return { from: args.from, to, ops: textDiffOps(a, b), hunks: lineHunks(a, b) };
    },
  }),
);
