import { z } from 'zod';
import { defineTask } from '../defineTask.js';
import { inTransaction } from '../transaction.js';

const Payload = z.object({
  documentId: z.uuid(),
  /** Only rows at least this old are folded (so an instance catching up never finds its next rows gone). */
  minAgeSeconds: z.number().min(0),
});

interface Row {
  server_order: string;
  agent: string;
  seq_start: number;
  seq_end: number;
  author_id: string;
  minute: string;
  folded: boolean;
}

/**
 * Folds away operation rows that the newest snapshot covers: their payloads (positional ops, patch
 * bytes) are dropped, since the snapshot holds the full causal history, and each agent's rows of one
 * minute by one author with consecutive seqs become one row that keeps the seq range, the counts, the
 * number of edits and the time of the last. Storage then grows with the history's bytes, not with
 * rows per keystroke; who wrote what and when stays known to the minute. Rows of the open burst
 * (not yet in an automatic version) are left alone. Running it again changes nothing.
 */
export const document__compact = defineTask('document__compact', Payload, async (p, client, helpers) => {
  await inTransaction(client, async () => {
    const limit = await client.query<{ upto: string | null }>(
      `SELECT least((SELECT max(server_order) FROM snapshots WHERE document_id = $1), d.versioned_order) AS upto
         FROM documents d WHERE d.id = $1 FOR UPDATE`,
      [p.documentId],
    );
    const upto = Number(limit.rows[0]?.upto ?? 0);
    if (upto === 0) return;
    const { rows } = await client.query<Row>(
      `SELECT server_order, agent, seq_start, seq_end, author_id, to_char(date_trunc('minute', created_at), 'YYYY-MM-DD HH24:MI') AS minute,
              (ops IS NULL AND patch IS NULL) AS folded
         FROM operations
        WHERE document_id = $1 AND server_order <= $2 AND created_at < now() - make_interval(secs => $3)
        ORDER BY agent, seq_start`,
      [p.documentId, upto, p.minAgeSeconds],
    );
    const groups: Row[][] = [];
    for (const r of rows) {
      const g = groups[groups.length - 1];
      const last = g?.[g.length - 1];
      if (g && last && last.agent === r.agent && last.author_id === r.author_id && last.minute === r.minute && last.seq_end === r.seq_start) g.push(r);
      else groups.push([r]);
    }
    let folded = 0;
    for (const g of groups) {
      if (g.length === 1 && g[0]!.folded) continue;
      const orders = g.map((r) => r.server_order);
      const keep = orders.reduce((a, b) => (Number(b) > Number(a) ? b : a));
      const others = orders.filter((o) => o !== keep);
      const sums = await client.query<{ inserted: string; deleted: string; edits: string; created_at: Date }>(
        `SELECT sum(inserted) AS inserted, sum(deleted) AS deleted, sum(edits) AS edits, max(created_at) AS created_at
           FROM operations WHERE document_id = $1 AND server_order = ANY($2::bigint[])`,
        [p.documentId, orders],
      );
      const s = sums.rows[0]!;
      // The others go first: the kept row takes over the first row's seq_start (unique per agent).
      if (others.length > 0) await client.query('DELETE FROM operations WHERE document_id = $1 AND server_order = ANY($2::bigint[])', [p.documentId, others]);
      await client.query(
        `UPDATE operations SET seq_start = $3, seq_end = $4, ops = NULL, patch = NULL, parents = '[]'::jsonb,
                inserted = $5, deleted = $6, edits = $7, created_at = $8
          WHERE document_id = $1 AND server_order = $2`,
        [p.documentId, keep, g[0]!.seq_start, g[g.length - 1]!.seq_end, s.inserted, s.deleted, s.edits, s.created_at],
      );
      folded += g.length;
    }
    if (folded > 0) helpers.logger.info(`document__compact ${p.documentId}: ${folded} row(s) folded into ${groups.filter((g) => !(g.length === 1 && g[0]!.folded)).length}`);
  });
});
