import { spawn, type ChildProcess } from 'node:child_process';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { content, edit, newDocument, newUser } from '../helpers/client.js';
import { freshDatabase } from '../helpers/db.js';
import { BUILT } from '../helpers/process.js';
import { startServer } from '../helpers/server.js';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

/** `npm run worker` as a process of its own. */
function spawnWorker(databaseUrl: string): ChildProcess {
  const w = spawn(process.execPath, [BUILT.worker], { env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: process.env.WORKER_LOG ?? 'warn' }, stdio: ['ignore', 'inherit', 'inherit'] });
  children.push(w);
  return w;
}

async function until<T>(probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('kill -9 of the worker process in the middle of a job', () => {
  it('the job runs again on the next worker (not 4 hours later) and its result is stored once', async () => {
    const db = await freshDatabase();
    // A snapshot is queued after 5 rows; this server runs no worker itself.
    const server = await startServer(db.url, { collab: { snapshotEveryOps: 5 } });
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    try {
      const { token } = await newUser(server.url);
      const doc = await newDocument(server.url, token, '');
      let parents: unknown = doc.version;
      for (let i = 0; i < 6; i++) {
        const r = await edit(server.url, token, { documentId: doc.id, agent: doc.agent, seq: i, parents, ops: [{ insert: { pos: i, text: String(i) } }] });
        parents = r.data.editDocument.version;
      }
      // Hold the snapshots table, so the job stops midway: after it was locked and started, before it stores anything.
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE snapshots IN ACCESS EXCLUSIVE MODE');
      const first = spawnWorker(db.url);
      const lockedBy = await until(async () => {
        const { rows } = await admin.query(`SELECT locked_by FROM graphile_worker.jobs WHERE task_identifier = 'document__snapshot' AND locked_by IS NOT NULL`);
        return rows[0]?.locked_by as string | undefined;
      });
      await until(async () => ((await admin.query(`SELECT 1 FROM pg_locks WHERE relation = 'snapshots'::regclass AND NOT granted`)).rowCount ? true : undefined));
      first.kill('SIGKILL');
      await new Promise((r) => first.once('exit', r));
      await blocker.query('ROLLBACK');
      // Still locked by the dead worker...
      const stale = await admin.query('SELECT locked_by FROM graphile_worker.jobs WHERE locked_by = $1', [lockedBy]);
      expect(stale.rowCount).toBe(1);

      // ...until the next worker process starts, sees that worker's process is gone, and runs the job.
      const second = spawnWorker(db.url);
      const snapshots = await until(async () => {
        const { rows } = await admin.query('SELECT server_order, content FROM snapshots WHERE document_id = $1', [doc.id]);
        return rows.length > 0 ? rows : undefined;
      });
      expect(snapshots).toEqual([{ server_order: '6', content: '012345' }]);
      expect((await content(server.url, token, doc.id)).content).toBe('012345');
      await until(async () => ((await admin.query(`SELECT 1 FROM graphile_worker.jobs WHERE task_identifier = 'document__snapshot'`)).rowCount === 0 ? true : undefined));
      const exit = new Promise<number | null>((r) => second.once('exit', (code) => r(code)));
      second.kill('SIGTERM');
      expect(await exit).toBe(0);
      // A clean stop leaves no lease behind.
      expect((await admin.query('SELECT worker_id FROM worker_leases')).rows).toEqual([]);
    } finally {
      await blocker.end().catch(() => undefined);
      await admin.end();
      await server.stop();
      await db.drop();
    }
  });
});
