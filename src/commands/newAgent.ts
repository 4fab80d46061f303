import { byViewer, recordAudit } from '../audit/auditLog.js';
import { randomBytes } from 'node:crypto';
import type { LiveDocument } from '../collab/liveDocument.js';
import type { RequestContext } from '../context.js';
import { documentAgents } from '../db/schema.js';

/** A fresh agent name: unique, well under diamond-types' 50-byte limit, never "ROOT". */
export function newAgent(): string {
  return `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
}

/** Issues the caller a fresh agent for the document: recorded in PostgreSQL and on the live copy. */
export async function issueAgent(ctx: RequestContext, doc: LiveDocument, audited = false): Promise<string> {
  const userId = ctx.viewer!.userId;
  const agent = newAgent();
  await ctx.services.db.transaction(async (tx) => {
    await tx.insert(documentAgents).values({ documentId: doc.id, agent, userId });
    if (audited) await recordAudit(tx, byViewer(ctx.viewer!, ctx.client, { action: 'document.joined', documentId: doc.id, details: { agent } }));
  });
  doc.noteAgent(agent, userId);
  return agent;
}
