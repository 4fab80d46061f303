import { applyPatch } from '../../commands/applyPatch.js';
import { editDocument } from '../../commands/editDocument.js';
import { joinDocument, type JoinResult } from '../../commands/joinDocument.js';
import type { TextOp } from '../../crdt/replica.js';
import type { RemoteVersion } from '../../crdt/version.js';
import { badInput } from '../../errors.js';
import { builder, scopes } from '../builder.js';
import { documentSource, DocumentRef, type DocumentSource } from './document.js';

export const InsertOpRef = builder.objectRef<Extract<TextOp, { kind: 'insert' }>>('InsertOp').implement({
  fields: (t) => ({
    pos: t.exposeInt('pos', { description: 'Code-point position.' }),
    text: t.exposeString('text'),
  }),
});

export const DeleteOpRef = builder.objectRef<Extract<TextOp, { kind: 'delete' }>>('DeleteOp').implement({
  fields: (t) => ({
    pos: t.exposeInt('pos', { description: 'Code-point position.' }),
    len: t.exposeInt('len', { description: 'Code points deleted.' }),
  }),
});

export const TextOpRef = builder.unionType('TextOp', {
  types: [InsertOpRef, DeleteOpRef],
  resolveType: (op) => (op.kind === 'insert' ? InsertOpRef : DeleteOpRef),
});

const InsertOpInput = builder.inputType('InsertOpInput', {
  fields: (t) => ({ pos: t.int({ required: true }), text: t.string({ required: true }) }),
});
const DeleteOpInput = builder.inputType('DeleteOpInput', {
  fields: (t) => ({ pos: t.int({ required: true }), len: t.int({ required: true }) }),
});
const TextOpInput = builder.inputType('TextOpInput', {
  isOneOf: true,
  fields: (t) => ({ insert: t.field({ type: InsertOpInput }), delete: t.field({ type: DeleteOpInput }) }),
});

const EditDocumentInput = builder.inputType('EditDocumentInput', {
  fields: (t) => ({
    documentId: t.id({ required: true }),
    agent: t.string({ required: true, description: 'Issued to the caller by joinDocument.' }),
    seq: t.int({ required: true, description: "The seq of this edit's first op: the agent's next seq." }),
    parents: t.field({ type: 'Version', required: true, description: 'The version the ops were made against.' }),
    ops: t.field({ type: [TextOpInput], required: true, description: 'Applied in order: op i sees the text after ops 0..i-1.' }),
  }),
});

const ApplyPatchInput = builder.inputType('ApplyPatchInput', {
  fields: (t) => ({
    documentId: t.id({ required: true }),
    patch: t.string({ required: true, description: 'base64 diamond-types patch.' }),
  }),
});

const JoinDocumentPayload = builder.objectRef<JoinResult>('JoinDocumentPayload').implement({
  fields: (t) => ({
    agent: t.exposeString('agent', { description: 'Your agent for this document; never share it between sessions.' }),
    content: t.exposeString('content'),
    version: t.field({ type: 'Version', resolve: (p) => p.version }),
  }),
});

type EditPayload = { version: RemoteVersion; document: DocumentSource };

const EditDocumentPayload = builder.objectRef<EditPayload>('EditDocumentPayload').implement({
  fields: (t) => ({
    version: t.field({
      type: 'Version',
      description: "The version this edit produced (its parents plus its ops): the text you hold after making it. Use it as your next edit's parents.",
      resolve: (p) => p.version,
    }),
    document: t.field({ type: DocumentRef, resolve: (p) => p.document }),
  }),
});

const ApplyPatchPayload = builder.objectRef<EditPayload>('ApplyPatchPayload').implement({
  fields: (t) => ({
    version: t.field({ type: 'Version', description: 'The version after merging the patch.', resolve: (p) => p.version }),
    document: t.field({ type: DocumentRef, resolve: (p) => p.document }),
  }),
});

function toTextOp(op: { insert?: { pos: number; text: string } | null; delete?: { pos: number; len: number } | null }): TextOp {
  if (op.insert) return { kind: 'insert', pos: op.insert.pos, text: op.insert.text };
  if (op.delete) return { kind: 'delete', pos: op.delete.pos, len: op.delete.len };
  throw badInput('each op must set exactly one of insert or delete', { field: 'ops' });
}

builder.mutationFields((t) => ({
  joinDocument: t.field({
    type: JoinDocumentPayload,
    description: 'Issues you a fresh agent for the document, with the text and version to edit from.',
    args: { documentId: t.arg.id({ required: true }) },
    authScopes: (_r, { documentId }) => scopes.write(documentId),
    resolve: (_r, { documentId }, ctx) => joinDocument(ctx, String(documentId)),
  }),
  editDocument: t.field({
    type: EditDocumentPayload,
    description: 'Applies positional ops made against `parents`. Returns once they are committed.',
    args: { input: t.arg({ type: EditDocumentInput, required: true }) },
    authScopes: (_r, { input }) => scopes.write(input.documentId),
    resolve: async (_r, { input }, ctx) => {
      const { version, document } = await editDocument(ctx, {
        documentId: String(input.documentId),
        agent: input.agent,
        seq: input.seq,
        parents: input.parents,
        ops: input.ops.map(toTextOp),
      });
      return { version, document: documentSource(document) };
    },
  }),
  applyPatch: t.field({
    type: ApplyPatchPayload,
    description: "Merges a diamond-types patch of your agents' operations. Returns once they are committed.",
    args: { input: t.arg({ type: ApplyPatchInput, required: true }) },
    authScopes: (_r, { input }) => scopes.write(input.documentId),
    resolve: async (_r, { input }, ctx) => {
      const { version, document } = await applyPatch(ctx, { documentId: String(input.documentId), patch: input.patch });
      return { version, document: documentSource(document) };
    },
  }),
}));
