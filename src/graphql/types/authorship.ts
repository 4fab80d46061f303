import type { RequestContext } from '../../context.js';
import type { AuthorRun } from '../../crdt/authorship.js';
import { findRun } from '../../crdt/runs.js';
import { AppError, ErrorCode } from '../../errors.js';
import { builder } from '../builder.js';
import { DocumentRef } from './document.js';

/** A stretch of the text written by one user in one accepted edit (or patch). */
interface AuthorshipSpan {
  start: number;
  length: number;
  text: string;
  userId: string | null;
  agent: string;
  at: Date | null;
}

const AuthorshipSpanRef = builder.objectRef<AuthorshipSpan>('AuthorshipSpan').implement({
  description: 'A stretch of the text written by one user in one edit.',
  fields: (t) => ({
    start: t.exposeInt('start', { description: 'Where it starts, in code points.' }),
    length: t.exposeInt('length', { description: 'Its length in code points.' }),
    text: t.exposeString('text'),
    userId: t.exposeID('userId', { nullable: true, description: 'Who wrote it (null only for an agent no user was recorded for).' }),
    agent: t.exposeString('agent'),
    at: t.field({ type: 'DateTime', nullable: true, description: 'When the edit that wrote it was accepted (null when a patch carried it under the row of another agent).', resolve: (s) => s.at }),
  }),
});

interface Row {
  agent: string;
  seq_start: number;
  seq_end: number;
  created_at: Date;
}

/** Splits the runs into spans at every change of edit (operation row), with user and time. */
async function spansOf(ctx: RequestContext, documentId: string, text: string, runs: AuthorRun[]): Promise<AuthorshipSpan[]> {
  const [rows, agents] = await Promise.all([
    ctx.services.pool.query<Row>('SELECT agent, seq_start, seq_end, created_at FROM operations WHERE document_id = $1 ORDER BY agent, seq_start', [documentId]),
    ctx.services.pool.query<{ agent: string; user_id: string }>('SELECT agent, user_id FROM document_agents WHERE document_id = $1', [documentId]),
  ]);
  const userOf = new Map(agents.rows.map((a) => [a.agent, a.user_id]));
  const rowsOf = new Map<string, Row[]>();
  for (const r of rows.rows) {
    let list = rowsOf.get(r.agent);
    if (!list) rowsOf.set(r.agent, (list = []));
    list.push(r);
  }
  const rowOf = (agent: string, seq: number) => findRun(rowsOf.get(agent) ?? [], seq, (r) => r.seq_start, (r) => r.seq_end - r.seq_start);
  const chars = Array.from(text);
  const out: AuthorshipSpan[] = [];
  let pos = 0;
  let lastRow: Row | undefined;
  for (const run of runs) {
    for (const seq of run.seqs) {
      const row = rowOf(run.agent, seq);
      const last = out[out.length - 1];
      if (last && last.agent === run.agent && row === lastRow) last.length++;
      else out.push({ start: pos, length: 1, text: '', userId: userOf.get(run.agent) ?? null, agent: run.agent, at: row?.created_at ?? null });
      lastRow = row;
      pos++;
    }
  }
  for (const s of out) s.text = chars.slice(s.start, s.start + s.length).join('');
  return out;
}

builder.objectFields(DocumentRef, (t) => ({
  authorship: t.field({
    type: [AuthorshipSpanRef],
    description: 'Blame: the text at `version` (default: now) as spans, each with the user and time of the edit that wrote it.',
    args: { version: t.arg({ type: 'Version', required: false }) },
    resolve: async (d, { version }, ctx) => {
      const doc = d.live ?? (await ctx.services.documents.get(d.meta.id));
      if (!doc) throw new AppError(ErrorCode.NOT_FOUND, 'document not found');
      const { text, runs } = await doc.authorship(version ?? null);
      return spansOf(ctx, d.meta.id, text, runs);
    },
  }),
}));
