import { requireDocument } from '../auth/access.js';
import type { RequestContext } from '../context.js';
import type { RemoteVersion } from '../crdt/version.js';
import { documentAgents } from '../db/schema.js';
import { newAgent } from './newAgent.js';

export interface JoinResult {
  agent: string;
  content: string;
  version: RemoteVersion;
}

/** Issues the caller a fresh agent for the document and returns the text and version to edit from. */
export async function joinDocument(ctx: RequestContext, documentId: string): Promise<JoinResult> {
  const doc = await requireDocument(ctx, documentId);
  const userId = ctx.viewer!.userId;
  const agent = newAgent();
  await ctx.services.db.insert(documentAgents).values({ documentId: doc.id, agent, userId });
  doc.noteAgent(agent, userId);
  const { content, version } = doc.snapshot();
  return { agent, content, version };
}
