import { quickAddJob, runOnce } from 'graphile-worker';
import pg from 'pg';
import { taskList } from '../workers/index.js';
import { gqlOk } from './lib/http.js';
import { benchDatabase, spawnCowrite } from './lib/processes.js';
import { createDoc, signUp } from './lib/setup.js';
import { fmt, header, percentile } from './lib/stats.js';
import { readTrace, type SequentialTrace } from './lib/traces.js';
import { replaySequential } from './replay.js';
import { quietPool } from '../test/helpers/db.js';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 30);

/** Median and p90 of timed calls, in ms. */
async function timed(n: number, call: (i: number) => Promise<unknown>): Promise<{ p50: number; p90: number }> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await call(i);
    ms.push(performance.now() - t0);
  }
  return { p50: percentile(ms, 50), p90: percentile(ms, 90) };
}

/** Bytes a document's operation rows and snapshots take, and the oplog's own size (its newest snapshot). */
async function storage(pool: pg.Pool, documentId: string): Promise<{ rows: number; rowBytes: number; snapshotBytes: number; oplogBytes: number }> {
  const r = await pool.query(
    `SELECT (SELECT count(*) FROM operations WHERE document_id = $1) AS rows,
            (SELECT coalesce(sum(pg_column_size(o.*)), 0) FROM operations o WHERE document_id = $1) AS row_bytes,
            (SELECT coalesce(sum(pg_column_size(s.*)), 0) FROM snapshots s WHERE document_id = $1) AS snapshot_bytes,
            (SELECT coalesce(octet_length(oplog), 0) FROM snapshots WHERE document_id = $1 ORDER BY server_order DESC LIMIT 1) AS oplog_bytes`,
    [documentId],
  );
  const x = r.rows[0];
  return { rows: Number(x.rows), rowBytes: Number(x.row_bytes), snapshotBytes: Number(x.snapshot_bytes), oplogBytes: Number(x.oplog_bytes ?? 0) };
}

/** Time to first content of a document that is not resident: a fresh server process, its first query; the median of three. */
async function coldLoad(dbUrl: string, token: string, documentId: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const fresh = await spawnCowrite({ DATABASE_URL: dbUrl });
    try {
      const t0 = performance.now();
      await gqlOk(fresh.url, 'query($d: ID!) { document(id: $d) { length } }', { d: documentId }, token);
      times.push(performance.now() - t0);
    } finally {
      await fresh.stop();
    }
  }
  return percentile(times, 50);
}

async function runTask(pool: pg.Pool, task: string, payload: object): Promise<void> {
  await quickAddJob({ pgPool: pool }, task, payload);
  await runOnce({ pgPool: pool, taskList });
}

export async function history(): Promise<void> {
  header('History: contentAt, diff, blame and versions on the automerge-paper history (260k events) and one ten times longer; storage and cold load before and after compaction', 'npm run bench -- history');
  const db = await benchDatabase();
  const server = await spawnCowrite({ DATABASE_URL: db.url });
  const pool = quietPool(db.url);
  const cold: Record<number, { before: number; after: number }> = {};
  try {
    const token = await signUp(server.url);
    const trace = readTrace<SequentialTrace>('sequential/automerge-paper.json.gz');
    let seed = 1;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (const times of [1, 10]) {
      const doc = await createDoc(server.url, token, '');
      const seen: unknown[] = [];
      let events = 0;
      for (let k = 0; k < times; k++) events += (await replaySequential(server.url, token, doc, trace, (v) => seen.push(v))).events;
      const pick = () => seen[Math.floor(random() * seen.length)];
      const q = (query: string, variables: Record<string, unknown>) => gqlOk(server.url, query, { d: doc, ...variables }, token);
      const contentAt = await timed(SAMPLES, () => q('query($d: ID!, $v: Version) { document(id: $d) { contentAt(version: $v) } }', { v: pick() }));
      const diff = await timed(SAMPLES, () => q('query($d: ID!, $a: Version!, $b: Version) { document(id: $d) { diff(from: $a, to: $b) { hunks { oldStart } ops { __typename } } } }', { a: pick(), b: pick() }));
      for (let i = 0; i < 50; i++) await q('mutation($d: ID!, $n: String!) { createVersion(documentId: $d, name: $n) { id } }', { n: `v${i}` });
      const list = await timed(SAMPLES, () => q('query($d: ID!) { document(id: $d) { versions(first: 50) { edges { node { name version createdAt } } } } }', {}));
      const current = await timed(SAMPLES, () => q('query($d: ID!) { document(id: $d) { content } }', {}));
      const blame = await timed(Math.min(SAMPLES, 5), () => q('query($d: ID!, $v: Version) { document(id: $d) { authorship(version: $v) { length } } }', { v: pick() }));
      console.log(
        `    ${times}x history (${events.toLocaleString()} events): contentAt p50 ${fmt(contentAt.p50)} ms (p90 ${fmt(contentAt.p90)}), diff p50 ${fmt(diff.p50)} ms (p90 ${fmt(diff.p90)}), ` +
          `versions listing (50) p50 ${fmt(list.p50)} ms, authorship at a random version p50 ${fmt(blame.p50)} ms; baseline, same document: current content p50 ${fmt(current.p50)} ms`,
      );
      // Storage and cold load: from the rows alone, then after a snapshot and compaction.
      const raw = await storage(pool, doc);
      const before = await coldLoad(db.url, token, doc);
      await runTask(pool, 'document__autoversion', { documentId: doc, quietMs: 0, maxOps: 1 });
      await runTask(pool, 'document__snapshot', { documentId: doc });
      await runTask(pool, 'document__compact', { documentId: doc, minAgeSeconds: 0 });
      const packed = await storage(pool, doc);
      const after = await coldLoad(db.url, token, doc);
      cold[times] = { before, after };
      const total = packed.rowBytes + packed.snapshotBytes;
      console.log(
        `    ${times}x storage: ${raw.rows} rows, ${fmt(raw.rowBytes / 1024)} KiB before; after compaction ${packed.rows} rows ${fmt(packed.rowBytes / 1024)} KiB + snapshots ${fmt(packed.snapshotBytes / 1024)} KiB = ${fmt(total / 1024)} KiB, ` +
          `${fmt(total / packed.oplogBytes)}x the oplog's toBytes (${fmt(packed.oplogBytes / 1024)} KiB; target within 3x). Cold load: ${fmt(before)} ms from rows, ${fmt(after)} ms after compaction`,
      );
    }
    console.log(`    cold load after compaction, 10x / 1x: ${fmt(cold[10]!.after / cold[1]!.after)}x (target within 2x)`);
    console.log('    targets: contentAt and diff p50 under 50 ms');
  } finally {
    await pool.end();
    await server.stop();
    await db.drop();
  }
}
