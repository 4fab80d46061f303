import { sql } from 'drizzle-orm';
import { requireViewer } from '../auth/access.js';
import type { RequestContext } from '../context.js';
import { Replica, type TextOp } from '../crdt/replica.js';
import { byViewer, recordAudit } from '../audit/auditLog.js';
import { documentAgents, documentMembers, documents, operations } from '../db/schema.js';
import { checkText } from '../validation.js';
import { newAgent } from './newAgent.js';

export interface CreateDocumentInput {
  title: string;
  content?: string | null;
}

/** Creates a document owned by the caller; initial content is written by an agent of the creator. */
export async function createDocument(ctx: RequestContext, input: CreateDocumentInput): Promise<string> {
  const viewer = requireViewer(ctx);
  const { config } = ctx.services;
  const title = checkText(input.title, 'title', config.limits.maxTitleChars);
  const content = input.content ?? '';
  checkText(content, 'content', config.limits.maxDocumentChars);
  const agent = newAgent();
  let row: { ops: TextOp[]; seqEnd: number; inserted: number } | null = null;
  if (content.length > 0) {
    // Validated like any edit, then stored the same way.
    const replica = Replica.empty();
    try {
      const r = replica.applyEdit(agent, 0, [], [{ kind: 'insert', pos: 0, text: content }], { ...config.limits, maxOpsPerEdit: 1 });
      row = { ops: r.entry?.kind === 'ops' ? r.entry.ops : [], seqEnd: r.runs[0]!.seqEnd, inserted: r.inserted };
    } finally {
      replica.free();
    }
  }
  return ctx.services.db.transaction(async (tx) => {
    const [doc] = await tx
      .insert(documents)
      .values({ ownerId: viewer.userId, title, opCount: row ? 1 : 0, eventCount: row?.inserted ?? 0 })
      .returning({ id: documents.id });
    const id = doc!.id;
    await tx.insert(documentMembers).values({ documentId: id, userId: viewer.userId, role: 'OWNER' });
    await tx.insert(documentAgents).values({ documentId: id, agent, userId: viewer.userId });
    await recordAudit(tx, byViewer(viewer, ctx.client, { action: 'document.created', documentId: id, details: { title } }));
    if (row) {
      await tx.insert(operations).values({
        documentId: id,
        serverOrder: 1,
        agent,
        seqStart: 0,
        seqEnd: row.seqEnd,
        ops: row.ops,
        parents: [],
        authorId: viewer.userId,
        inserted: row.inserted,
      });
      // The initial text starts the first burst of activity (later rows are appended by cowrite_append, which queues its own).
      const { autoVersionQuietMs: quietMs, autoVersionMaxOps: maxOps } = config.collab;
      await tx.execute(
        sql`SELECT graphile_worker.add_job('document__autoversion', ${JSON.stringify({ documentId: id, quietMs, maxOps })}::json,
              job_key := ${`document__autoversion:${id}`}, run_at := now() + make_interval(secs => ${quietMs / 1000}))`,
      );
    }
    return id;
  });
}
