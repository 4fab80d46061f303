import { limitEdits } from '../auth/rateLimits.js';
import { requireDocument } from '../auth/access.js';
import type { LiveDocument } from '../collab/liveDocument.js';
import type { RequestContext } from '../context.js';
import type { TextOp } from '../crdt/replica.js';
import type { RemoteVersion } from '../crdt/version.js';

export interface EditDocumentInput {
  documentId: string;
  agent: string;
  seq: number;
  parents: RemoteVersion;
  ops: TextOp[];
}

/** Applies a positional edit; returns once it is committed, with the version it produced. */
export async function editDocument(ctx: RequestContext, input: EditDocumentInput): Promise<{ version: RemoteVersion; document: LiveDocument }> {
  await limitEdits(ctx);
  const doc = await requireDocument(ctx, input.documentId);
  const result = await doc.edit(ctx.viewer!.userId, input.agent, input.seq, input.parents, input.ops);
  return { version: result.version, document: doc };
}
