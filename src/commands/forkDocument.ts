import { inArray, and, eq } from 'drizzle-orm';
import { byViewer, recordAudit } from '../audit/auditLog.js';
import { requireDocument, requireViewer } from '../auth/access.js';
import type { RequestContext } from '../context.js';
import type { RemoteVersion } from '../crdt/version.js';
import { documentAgents, documentMembers, documents, snapshots } from '../db/schema.js';
import { checkText } from '../validation.js';
import { createDocument } from './createDocument.js';

export interface ForkInput {
  documentId: string;
  version: RemoteVersion | null;
  title: string;
  /** Keep the source's history up to the version (blame, time travel and resume work in the fork), or start afresh from its text. */
  keepHistory?: boolean;
}

/**
 * Creates a new document, owned by the caller, whose text is the source's text at `version` (null:
 * the current one). Flattened, its history starts there (one insert by the caller); keeping history,
 * it starts from a snapshot of the source's history up to that version, agents and all.
 */
export async function forkDocument(ctx: RequestContext, input: ForkInput): Promise<string> {
  const viewer = requireViewer(ctx);
  const source = await requireDocument(ctx, input.documentId);
  if (!input.keepHistory) {
    const content = input.version ? await source.textAtVersion(input.version) : (await source.read()).content;
    const id = await createDocument(ctx, { title: input.title, content });
    await recordAudit(ctx.services.db, byViewer(viewer, ctx.client, { action: 'document.forked', documentId: id, details: { from: source.id, keepHistory: false } }));
    return id;
  }
  const title = checkText(input.title, 'title', ctx.services.config.limits.maxTitleChars);
  const history = await source.historyAt(input.version);
  return ctx.services.db.transaction(async (tx) => {
    const [doc] = await tx.insert(documents).values({ ownerId: viewer.userId, title }).returning({ id: documents.id });
    const id = doc!.id;
    await tx.insert(documentMembers).values({ documentId: id, userId: viewer.userId, role: 'OWNER' });
    // The history's agents keep their users (for blame); only members of the fork may write.
    if (history.agents.length > 0) {
      const owners = await tx
        .select({ agent: documentAgents.agent, userId: documentAgents.userId })
        .from(documentAgents)
        .where(and(eq(documentAgents.documentId, source.id), inArray(documentAgents.agent, history.agents)));
      if (owners.length > 0) await tx.insert(documentAgents).values(owners.map((o) => ({ documentId: id, agent: o.agent, userId: o.userId })));
    }
    await tx.insert(snapshots).values({ documentId: id, serverOrder: 0, oplog: Buffer.from(history.bytes), content: history.content, version: history.version });
    await recordAudit(tx, byViewer(viewer, ctx.client, { action: 'document.created', documentId: id, details: { title } }));
    await recordAudit(tx, byViewer(viewer, ctx.client, { action: 'document.forked', documentId: id, details: { from: source.id, keepHistory: true, version: history.version } }));
    return id;
  });
}
