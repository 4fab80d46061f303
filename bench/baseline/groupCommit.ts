import pg from 'pg';

/** One edit as the throughput references store it. */
export interface RefRow {
  d: string;
  a: string;
  s: number;
  o: unknown;
}

/**
 * The least a durable acknowledgement takes, for the throughput references: each edit becomes one
 * row, rows arriving while a commit is in flight go together in the next one (group commit: one
 * statement, one fsync), and each append resolves after its row commits. A failed commit ends the
 * reference loudly rather than leaving its writers waiting. Each reference writes a table of its own.
 */
export async function groupCommit(databaseUrl: string, table: string): Promise<(row: RefRow) => Promise<void>> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  await pool.query(`CREATE TABLE IF NOT EXISTS ${table} (
    document_id text NOT NULL, agent text NOT NULL, seq integer NOT NULL, ops jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (document_id, agent, seq))`);
  await pool.query(`TRUNCATE ${table}`);
  let pending: { row: RefRow; done: () => void }[] = [];
  let flushing = false;
  async function drain(): Promise<void> {
    while (pending.length > 0) {
      const batch = pending;
      pending = [];
      await pool.query({
        name: 'append',
        text: `INSERT INTO ${table} (document_id, agent, seq, ops) SELECT d, a, s, o FROM jsonb_to_recordset($1::jsonb) AS x(d text, a text, s integer, o jsonb) ON CONFLICT DO NOTHING`,
        values: [JSON.stringify(batch.map((p) => p.row))],
      });
      for (const p of batch) p.done();
    }
    flushing = false;
  }
  return (row) =>
    new Promise<void>((done) => {
      pending.push({ row, done });
      // Like cowrite's committer: start on the next turn, so every request of this one joins the batch.
      if (!flushing) {
        flushing = true;
        setImmediate(() => drain().catch((err) => (console.error(err), process.exit(1))));
      }
    });
}
