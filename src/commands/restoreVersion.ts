import { requireDocument } from '../auth/access.js';
import type { LiveDocument } from '../collab/liveDocument.js';
import type { RequestContext } from '../context.js';
import { textDiffOps } from '../crdt/textDiff.js';
import type { RemoteVersion } from '../crdt/version.js';
import { issueAgent } from './newAgent.js';

/**
 * Makes the current text equal to the text at `version`, with new operations by the caller (under a
 * fresh agent of theirs): nothing is rewound, collaborators see the change live, and the restore is
 * itself history (restoring the version before it undoes it). Edits made concurrently merge as usual.
 */
export async function restoreVersion(ctx: RequestContext, documentId: string, version: RemoteVersion): Promise<{ version: RemoteVersion; document: LiveDocument }> {
  const doc = await requireDocument(ctx, documentId);
  const userId = ctx.viewer!.userId;
  const target = await doc.textAtVersion(version);
  await doc.drain();
  const now = await doc.read();
  const ops = textDiffOps(now.content, target);
  if (ops.length === 0) return { version: now.version, document: doc };
  const agent = await issueAgent(ctx, doc);
  const result = await doc.edit(userId, agent, 0, now.version, ops);
  return { version: result.version, document: doc };
}
