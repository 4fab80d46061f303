import { spawn } from 'node:child_process';
import { quickAddJob } from 'graphile-worker';
import { describe, expect, it } from 'vitest';
import { edit, newDocument, newUser } from '../helpers/client.js';
import { freshDatabase, quietPool } from '../helpers/db.js';
import { BUILT } from '../helpers/process.js';
import { startServer } from '../helpers/server.js';

describe('npm run worker', () => {
  it('runs the jobs alone against DATABASE_URL and stops cleanly on SIGTERM', async () => {
    const db = await freshDatabase();
    const server = await startServer(db.url); // no in-process worker
    const pool = quietPool(db.url);
    const worker = spawn(process.execPath, [BUILT.worker], {
      env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    try {
      const { token } = await newUser(server.url);
      const doc = await newDocument(server.url, token, 'job');
      await edit(server.url, token, { documentId: doc.id, agent: doc.agent, seq: 0, parents: doc.version, ops: [{ insert: { pos: 3, text: 's' } }] });
      await quickAddJob({ pgPool: pool }, 'document__snapshot', { documentId: doc.id });
      let rows: { content: string }[] = [];
      for (let i = 0; i < 100 && rows.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 200));
        rows = (await pool.query('SELECT content FROM snapshots WHERE document_id = $1', [doc.id])).rows;
      }
      expect(rows).toEqual([{ content: 'jobs' }]);
    } finally {
      const exit = new Promise<number | null>((r) => worker.once('exit', (code) => r(code)));
      worker.kill('SIGTERM');
      expect(await exit).toBe(0);
      await server.stop();
      await pool.end();
      await db.drop();
    }
  });
});
