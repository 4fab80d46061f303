import { spawn } from 'node:child_process';
import { quickAddJob } from 'graphile-worker';
import { describe, expect, it } from 'vitest';
import { edit, newDocument, newUser } from '../helpers/client.js';
import { freshDatabase, quietPool } from '../helpers/db.js';
import { scrape } from '../helpers/metrics.js';
import { freePort } from '../helpers/net.js';
import { BUILT } from '../helpers/process.js';
import { startServer } from '../helpers/server.js';

describe('npm run worker', () => {
  it('runs the jobs alone against DATABASE_URL, serves its metrics on METRICS_PORT, and stops cleanly on SIGTERM', async () => {
    const db = await freshDatabase();
    const server = await startServer(db.url); // no in-process worker
    const pool = quietPool(db.url);
    const metricsPort = await freePort();
    const metricsUrl = `http://127.0.0.1:${metricsPort}/graphql`; // scrape() asks for /metrics
    const worker = spawn(process.execPath, [BUILT.worker], {
      env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'warn', METRICS_PORT: String(metricsPort), METRICS_HOST: '127.0.0.1' },
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
      // The worker's own figures: that job's attempt, Node's, and the engine memory it used.
      const { samples } = await scrape(metricsUrl);
      expect(samples.get('cowrite_job_attempts_total{task="document__snapshot",result="success"}')).toBeGreaterThanOrEqual(1);
      expect(samples.get('cowrite_job_duration_seconds_count{task="document__snapshot"}')).toBeGreaterThanOrEqual(1);
      expect(samples.get('cowrite_engine_memory_bytes{thread="jobs"}')).toBeGreaterThan(0);
      expect(samples.has('process_cpu_seconds_total')).toBe(true);
      expect((await fetch(`http://127.0.0.1:${metricsPort}/graphql`)).status).toBe(404);
    } finally {
      const exit = new Promise<number | null>((r) => worker.once('exit', (code) => r(code)));
      worker.kill('SIGTERM');
      expect(await exit).toBe(0);
      await expect(fetch(`http://127.0.0.1:${metricsPort}/metrics`)).rejects.toThrow();
      await server.stop();
      await pool.end();
      await db.drop();
    }
  });
});
