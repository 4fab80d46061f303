import { requireDocument } from '../../auth/access.js';
import { guardSubscription } from '../../auth/guardSubscription.js';
import { isStreamFailure, type DocChange, type StreamFailure } from '../../collab/changeStream.js';
import { Kind, type FieldNode, type SelectionSetNode } from 'graphql';
import { builder, scopes } from '../builder.js';
import { TextOpRef } from './edit.js';

const DocumentChangeRef = builder.objectRef<DocChange>('DocumentChange').implement({
  description: 'One step of a document\'s change log. Applying every event\'s ops in order to the text at `since` reproduces the current text.',
  fields: (t) => ({
    documentId: t.exposeID('documentId'),
    version: t.field({ type: 'Version', description: "The document's version after this event.", resolve: (c) => c.version }),
    ops: t.field({ type: [TextOpRef], description: "Turn the text at the previous event's version into the text at `version`.", resolve: (c) => c.ops }),
    patch: t.exposeString('patch', { description: 'base64 diamond-types patch carrying the new operations.' }),
    agents: t.exposeStringList('agents', { description: 'Whose operations this event carries.' }),
  }),
});

builder.subscriptionField('documentChanges', (t) =>
  t.field({
    type: DocumentChangeRef,
    description: 'A gap-free log of changes from `since` ([] = the empty document; null = now), then live.',
    args: {
      documentId: t.arg.id({ required: true }),
      since: t.arg({ type: 'Version', required: false }),
    },
    authScopes: (_r, { documentId }) => scopes.read(documentId),
    subscribe: async (_r, { documentId, since }, ctx, info) => {
      const doc = await requireDocument(ctx, String(documentId));
      return guardSubscription(ctx, doc.id, await doc.subscribe(ctx.viewer!.userId, since ?? null, selectsPatch(info.fieldNodes)));
    },
    resolve: (change: DocChange | StreamFailure) => {
      // A stream that must end (fell behind, document gone) delivers its error as its last item.
      if (isStreamFailure(change)) throw change.failure;
      return change;
    },
  }),
);

/** Whether the subscriber asked for `patch` (fragments count as asking: they are not resolved here). */
function selectsPatch(nodes: readonly FieldNode[]): boolean {
  const visit = (set: SelectionSetNode | undefined): boolean =>
    !!set?.selections.some((s) => (s.kind === Kind.FIELD ? s.name.value === 'patch' : s.kind === Kind.INLINE_FRAGMENT ? visit(s.selectionSet) : true));
  return nodes.some((n) => visit(n.selectionSet));
}
