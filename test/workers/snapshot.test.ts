import { quickAddJob, runOnce } from 'graphile-worker';
import { describe, expect, it } from 'vitest';
import { taskList } from '../../workers/index.js';
import { content, edit, newDocument, newUser } from '../helpers/client.js';
import { freshDatabase, quietPool } from '../helpers/db.js';
import { startServer } from '../helpers/server.js';

describe('document__snapshot', () => {
  it('is queued by the commit after enough operations, stores oplog and text, and a load starts from it', async () => {
    const db = await freshDatabase();
    const lines: string[] = [];
    const server = await startServer(db.url, { runWorker: true, collab: { snapshotEveryOps: 5 } } as never, { write: (line: string) => void lines.push(line) });
    const pool = quietPool(db.url);
    try {
      const { token } = await newUser(server.url);
      const doc = await newDocument(server.url, token, 'start');
      let parents: unknown = doc.version;
      for (let i = 0; i < 8; i++) {
        const r = await edit(server.url, token, { documentId: doc.id, agent: doc.agent, seq: i, parents, ops: [{ insert: { pos: 0, text: String(i) } }] });
        parents = r.data.editDocument.version;
      }
      let snaps: { server_order: string; content: string }[] = [];
      for (let i = 0; i < 100 && snaps.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 200));
        snaps = (await pool.query('SELECT server_order, content FROM snapshots WHERE document_id = $1', [doc.id])).rows;
      }
      expect(snaps.length).toBe(1);
      const order = Number(snaps[0]!.server_order);
      expect(order).toBeGreaterThanOrEqual(5);
      // The job ran on the runner's own thread, and said so in the server's log.
      const logged = () => lines.map((l) => JSON.parse(l) as { thread?: string; msg: string }).find((l) => l.msg.startsWith(`document__snapshot ${doc.id}: through order ${order}`));
      for (let i = 0; i < 20 && !logged(); i++) await new Promise((r) => setTimeout(r, 100));
      expect(logged()?.thread).toBe('jobs');
      // Edits after the snapshot, then a fresh instance: snapshot + later rows give the same text.
      await edit(server.url, token, { documentId: doc.id, agent: doc.agent, seq: 8, parents, ops: [{ insert: { pos: 0, text: '!' } }] });
      const expected = (await content(server.url, token, doc.id)).content;
      expect(expected).toBe('!76543210start');
      await server.stop();
      const fresh = await startServer(db.url);
      expect((await content(fresh.url, token, doc.id)).content).toBe(expected);
      await fresh.stop();

      // Safe to run twice: a second run adds the newer snapshot once, a third changes nothing.
      for (let run = 0; run < 2; run++) {
        await quickAddJob({ pgPool: pool }, 'document__snapshot', { documentId: doc.id });
        await runOnce({ pgPool: pool, taskList });
      }
      const after = (await pool.query('SELECT server_order, content FROM snapshots WHERE document_id = $1 ORDER BY server_order', [doc.id])).rows;
      expect(after.map((r) => r.content)).toEqual([snaps[0]!.content, expected]);
      // A malformed payload is dropped, not retried forever.
      const bad = await quickAddJob({ pgPool: pool }, 'document__snapshot', { nope: 1 });
      const left = async () => Number((await pool.query('SELECT count(*) FROM graphile_worker.jobs WHERE id = $1', [bad.id])).rows[0].count);
      for (let i = 0; i < 5 && (await left()) > 0; i++) await runOnce({ pgPool: pool, taskList });
      expect(Number((await pool.query('SELECT count(*) FROM graphile_worker.jobs WHERE id = $1', [bad.id])).rows[0].count)).toBe(0);
    } finally {
      await pool.end();
      await db.drop();
    }
  });
});
