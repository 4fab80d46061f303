import { limitEdits } from '../auth/rateLimits.js';
import { requireDocument } from '../auth/access.js';
import type { RequestContext } from '../context.js';
import type { RemoteVersion } from '../crdt/version.js';
import { issueAgent } from './newAgent.js';

export interface JoinResult {
  agent: string;
  content: string;
  version: RemoteVersion;
}

/** Issues the caller a fresh agent for the document and returns the text and version to edit from. */
export async function joinDocument(ctx: RequestContext, documentId: string): Promise<JoinResult> {
  await limitEdits(ctx);
  const doc = await requireDocument(ctx, documentId);
  const agent = await issueAgent(ctx, doc, true);
  const { content, version } = await doc.read();
  return { agent, content, version };
}
