import { readFileSync } from 'node:fs';
import path from 'node:path';
import { quickAddJob, runOnce } from 'graphile-worker';
import { Replica } from '../src/crdt/replica.js';
import { taskList } from '../workers/index.js';
import { gqlOk } from './lib/http.js';
import { benchDatabase, spawnCowrite } from './lib/processes.js';
import { createDoc, signUp } from './lib/setup.js';
import { fmt, header, median } from './lib/stats.js';
import { TRACES_DIR, readTrace, type SequentialTrace } from './lib/traces.js';
import { replaySequential } from './replay.js';
import { quietPool } from '../test/helpers/db.js';

const RUNS = 3;

/** Restarts the server and times the first `content` of a document that is not resident. */
async function coldLoads(dbUrl: string, token: string, documentId: string, warmDoc: string) {
  const times: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const server = await spawnCowrite({ DATABASE_URL: dbUrl });
    try {
      // A running server, not a cold process: another (small) document has been served already.
      await gqlOk(server.url, 'query($d: ID!) { document(id: $d) { length } }', { d: warmDoc }, token);
      const before = server.rssMiB();
      const t0 = performance.now();
      const d = await gqlOk(server.url, 'query($d: ID!) { document(id: $d) { length } }', { d: documentId }, token);
      times.push(performance.now() - t0);
      if (d.document.length !== 104_852) throw new Error(`unexpected length ${d.document.length}`);
      await new Promise((r) => setTimeout(r, 300));
      rss.push(server.rssMiB() - before);
    } finally {
      await server.stop();
    }
  }
  return { ms: median(times), rss: median(rss) };
}

export async function coldload(): Promise<void> {
  header(`Cold load: a document holding the automerge-paper history (259,778 events), not resident; median of ${RUNS} restarts`, 'npm run bench -- coldload');
  const db = await benchDatabase();
  const pool = quietPool(db.url);
  try {
    const server = await spawnCowrite({ DATABASE_URL: db.url });
    const token = await signUp(server.url);
    const doc = await createDoc(server.url, token, '');
    const warmDoc = await createDoc(server.url, token, 'a small document');
    await replaySequential(server.url, token, doc, readTrace<SequentialTrace>('sequential/automerge-paper.json.gz'));
    await server.stop();

    // Baseline, same run: the engine alone building the same history from its own binary format.
    const bytes = readFileSync(path.join(TRACES_DIR, 'dt/automerge-paper.dt'));
    const engine: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const r = Replica.fromSnapshot(bytes);
      r.textAt(r.frontier());
      engine.push(performance.now() - t0);
      r.free();
    }

    const rows = Number((await pool.query('SELECT count(*) FROM operations WHERE document_id = $1', [doc])).rows[0].count);
    const fromRows = await coldLoads(db.url, token, doc, warmDoc);
    await quickAddJob({ pgPool: pool }, 'document__snapshot', { documentId: doc });
    await runOnce({ pgPool: pool, taskList });
    const snapBytes = Number((await pool.query('SELECT octet_length(oplog) AS n FROM snapshots WHERE document_id = $1', [doc])).rows[0].n);
    const fromSnapshot = await coldLoads(db.url, token, doc, warmDoc);

    console.log(`    baseline (engine alone: .dt bytes -> replica -> text):   ${fmt(median(engine))} ms`);
    console.log(`    from ${rows} operation rows (positional edits):          ${fmt(fromRows.ms)} ms to first content, +${fmt(fromRows.rss, 1)} MiB resident`);
    console.log(`    from a snapshot (${snapBytes} bytes of oplog):           ${fmt(fromSnapshot.ms)} ms to first content, +${fmt(fromSnapshot.rss, 1)} MiB resident`);
    console.log(`    target: under 100 ms to first content`);
  } finally {
    await pool.end();
    await db.drop();
  }
}
