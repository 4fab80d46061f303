import { requireViewer } from '../auth/access.js';
import type { RequestContext } from '../context.js';
import { Replica } from '../crdt/replica.js';
import { AppError, ErrorCode } from '../errors.js';
import { checkText } from '../validation.js';
import { newAgent } from './newAgent.js';

export interface CreateDocumentInput {
  title: string;
  content?: string | null;
}

/** Creates a document owned by the caller; initial content is written by an agent of the creator. */
export async function createDocument(ctx: RequestContext, input: CreateDocumentInput): Promise<string> {
  const viewer = requireViewer(ctx);
  const { config, pool } = ctx.services;
  const title = checkText(input.title, 'title', config.limits.maxTitleChars);
  const content = input.content ?? '';
  checkText(content, 'content', config.limits.maxDocumentChars);
  if (content.length > 0 && content.length > config.limits.maxInsertChars * 2) {
    throw new AppError(ErrorCode.PAYLOAD_TOO_LARGE, 'content is too large', { field: 'content', max: config.limits.maxInsertChars });
  }
  const agent = newAgent();
  let row: { ops: string; seqEnd: number; inserted: number } | null = null;
  if (content.length > 0) {
    // Validated like any edit, then stored the same way.
    const replica = Replica.empty();
    try {
      const r = replica.applyEdit(agent, 0, [], [{ kind: 'insert', pos: 0, text: content }], { ...config.limits, maxOpsPerEdit: 1 });
      row = { ops: JSON.stringify(r.entry?.kind === 'ops' ? r.entry.ops : []), seqEnd: r.runs[0]!.seqEnd, inserted: r.inserted };
    } finally {
      replica.free();
    }
  }
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const doc = await client.query<{ id: string }>('INSERT INTO documents (owner_id, title, op_count, event_count) VALUES ($1, $2, $3, $4) RETURNING id', [
      viewer.userId,
      title,
      row ? 1 : 0,
      row?.inserted ?? 0,
    ]);
    const id = doc.rows[0]!.id;
    await client.query('INSERT INTO document_agents (document_id, agent, user_id) VALUES ($1, $2, $3)', [id, agent, viewer.userId]);
    if (row) {
      await client.query(
        `INSERT INTO operations (document_id, server_order, agent, seq_start, seq_end, ops, parents, author_id, inserted, deleted)
         VALUES ($1, 1, $2, 0, $3, $4, '[]', $5, $6, 0)`,
        [id, agent, row.seqEnd, row.ops, viewer.userId, row.inserted],
      );
    }
    await client.query('COMMIT');
    return id;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
