import { createServer, type ServerResponse } from 'node:http';
import pg from 'pg';

/**
 * A throughput reference: the bare node:http server plus the least a durable acknowledgement takes.
 * Each POST body's edit becomes one row, rows arriving while a commit is in flight go together in the
 * next one (group commit, one statement and one fsync), and the canned reply is sent after its
 * row commits. No GraphQL, no CRDT, no access checks: what is left of cowrite's gap to the bare
 * server once this is subtracted is cowrite's own.
 * Usage: durableServer.ts DATABASE_URL (prints its port).
 */
const pool = new pg.Pool({ connectionString: process.argv[2], max: 1 });
await pool.query(`CREATE TABLE IF NOT EXISTS bench_durable_ops (
  document_id text NOT NULL, agent text NOT NULL, seq integer NOT NULL, ops jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (document_id, agent, seq))`);
await pool.query('TRUNCATE bench_durable_ops');

interface Pending {
  row: { d: string; a: string; s: number; o: unknown };
  res: ServerResponse;
  reply: string;
}
let pending: Pending[] = [];
let flushing = false;

async function drain(): Promise<void> {
  while (pending.length > 0) {
    const batch = pending;
    pending = [];
    await pool.query({
      name: 'append',
      text: 'INSERT INTO bench_durable_ops (document_id, agent, seq, ops) SELECT d, a, s, o FROM jsonb_to_recordset($1::jsonb) AS x(d text, a text, s integer, o jsonb) ON CONFLICT DO NOTHING',
      values: [JSON.stringify(batch.map((p) => p.row))],
    });
    for (const p of batch) p.res.end(p.reply);
  }
  flushing = false;
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { variables?: { i?: { documentId?: string; agent?: string; seq?: number; ops?: unknown } } };
    const i = body.variables?.i ?? {};
    const reply = JSON.stringify({ data: { editDocument: { version: [[i.agent ?? 'a', i.seq ?? 0]] } } });
    res.writeHead(200, { 'content-type': 'application/graphql-response+json; charset=utf-8', 'content-length': Buffer.byteLength(reply) });
    pending.push({ row: { d: i.documentId ?? '', a: i.agent ?? '', s: i.seq ?? 0, o: i.ops ?? [] }, res, reply });
    // Like cowrite's committer: start on the next turn, so every request of this one joins the batch.
    if (!flushing) {
      flushing = true;
      // A failed commit ends the reference loudly rather than leaving its writers waiting.
      setImmediate(() => drain().catch((err) => (console.error(err), process.exit(1))));
    }
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => console.log((server.address() as { port: number }).port));
