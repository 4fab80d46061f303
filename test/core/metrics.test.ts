import { quickAddJob } from 'graphile-worker';
import { describe, expect, it } from 'vitest';
import { edit, newDocument, newUser, subscribeChanges, wsClient } from '../helpers/client.js';
import { useServer } from '../helpers/fixture.js';
import { scrape } from '../helpers/metrics.js';
import { loseReplica } from '../helpers/server.js';
import { until } from '../helpers/wait.js';

const env = useServer();
const off = useServer({ metrics: false } as never);
const apart = useServer({ metricsPort: 0, metricsHost: '127.0.0.1' } as never);
const withJobs = useServer({ runWorker: true } as never);

/** Waits (up to 2.5 s) until a server's metric reads `want`. */
async function untilMetric(graphqlUrl: string, name: string, want: number): Promise<void> {
  await until(async () => (await scrape(graphqlUrl)).samples.get(name) === want, 2_500, `${name} is ${want}`);
}

describe('Prometheus metrics at /metrics', () => {
  it("counts committed edits and group commits, and shows the process's own figures", async () => {
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, 'm');
    const before = await scrape(env.url);
    expect(before.status).toBe(200);
    expect(before.type).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const name of ['process_cpu_seconds_total', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes', 'cowrite_documents_resident']) {
      expect(before.samples.has(name), name).toBe(true);
    }

    let parents: unknown = doc.version;
    for (let i = 0; i < 3; i++) {
      const r = await edit(env.url, token, { documentId: doc.id, agent: doc.agent, seq: i, parents, ops: [{ insert: { pos: 1 + i, text: 'x' } }] });
      expect(r.errors).toBeUndefined();
      parents = r.data.editDocument.version;
    }
    // A retry of an acknowledged edit is answered, not written again.
    await edit(env.url, token, { documentId: doc.id, agent: doc.agent, seq: 2, parents: doc.version, ops: [{ insert: { pos: 3, text: 'x' } }] });

    const after = (await scrape(env.url)).samples;
    const delta = (name: string) => (after.get(name) ?? 0) - (before.samples.get(name) ?? 0);
    expect(delta('cowrite_committed_rows_total')).toBe(3);
    expect(delta('cowrite_commits_total')).toBe(3);
    expect(delta('cowrite_commit_duration_seconds_count')).toBe(3);
    expect(delta('cowrite_commit_duration_seconds_sum')).toBeGreaterThan(0);
    expect(after.get('cowrite_commit_failures_total')).toBe(0);
    expect(after.get('cowrite_documents_resident')).toBeGreaterThanOrEqual(1);
  });

  it('shows open WebSocket clients and subscriptions while they are open', async () => {
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, 's');
    const ws = wsClient(env.wsUrl, token);
    const sub = subscribeChanges(ws, doc.id, []);
    await sub.until(() => sub.events.length > 0);
    const open = (await scrape(env.url)).samples;
    expect(open.get('cowrite_change_subscriptions')).toBe(1);
    expect(open.get('cowrite_websocket_clients')).toBe(1);
    sub.dispose();
    await untilMetric(env.url, 'cowrite_change_subscriptions', 0);
    await ws.dispose();
    await untilMetric(env.url, 'cowrite_websocket_clients', 0);
  });

  it('counts a replica replaced after an engine failure', async () => {
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, 'r');
    const before = (await scrape(env.url)).samples.get('cowrite_document_reloads_total{cause="engine"}') ?? 0;
    // The engine instance behind this document is gone, as after a WASM trap.
    loseReplica(env.server, doc.id);
    const r = await edit(env.url, token, { documentId: doc.id, agent: doc.agent, seq: 0, parents: doc.version, ops: [{ insert: { pos: 1, text: '!' } }] });
    expect(r.errors?.[0]?.extensions?.code).toBe('UNAVAILABLE');
    expect((await scrape(env.url)).samples.get('cowrite_document_reloads_total{cause="engine"}')).toBe(before + 1);
  });

  it('counts attempts at jobs by task and result, with their durations, and the jobs given up on', async () => {
    const { token } = await newUser(withJobs.url);
    const good = await newDocument(withJobs.url, token, 'job');
    const bad = await newDocument(withJobs.url, token, 'bad');
    // A stored row the engine cannot read: its snapshot job throws, and with one attempt allowed, is given up.
    await withJobs.pool.query(
      `INSERT INTO operations (document_id, server_order, agent, seq_start, seq_end, patch, parents, author_id, inserted, deleted)
       SELECT id, 2, 'broken', 0, 1, '\\x00ff'::bytea, '[]', owner_id, 1, 0 FROM documents WHERE id = $1`,
      [bad.id],
    );
    const count = async (name: string) => (await scrape(withJobs.url)).samples.get(name) ?? 0;
    const ok = 'cowrite_job_attempts_total{task="document__snapshot",result="success"}';
    const failed = 'cowrite_job_attempts_total{task="document__snapshot",result="error"}';
    const gaveUp = 'cowrite_jobs_failed_total{task="document__snapshot"}';
    const timed = 'cowrite_job_duration_seconds_count{task="document__snapshot"}';
    const [ok0, failed0, gaveUp0, timed0] = [await count(ok), await count(failed), await count(gaveUp), await count(timed)];
    await quickAddJob({ pgPool: withJobs.pool }, 'document__snapshot', { documentId: good.id });
    await quickAddJob({ pgPool: withJobs.pool }, 'document__snapshot', { documentId: bad.id }, { maxAttempts: 1 });
    await until(async () => (await count(ok)) > ok0 && (await count(failed)) > failed0, 20_000, 'both jobs ran');
    expect(await count(failed)).toBe(failed0 + 1);
    expect(await count(gaveUp)).toBe(gaveUp0 + 1);
    expect(await count(timed)).toBeGreaterThanOrEqual(timed0 + 2);
    expect((await withJobs.pool.query('SELECT content FROM snapshots WHERE document_id = $1', [good.id])).rows).toEqual([{ content: 'job' }]);
  });

  it('is not served with METRICS=false', async () => {
    expect((await scrape(off.url)).status).toBe(404);
  });

  it('is served on METRICS_PORT alone when it is set, with the same figures, and that port closes on stop', async () => {
    const metricsUrl = `http://127.0.0.1:${apart.server.metricsPort}/graphql`; // scrape() swaps /graphql for /metrics
    expect((await scrape(apart.url)).status).toBe(404);
    const { token } = await newUser(apart.url);
    const doc = await newDocument(apart.url, token, 'p');
    const before = await scrape(metricsUrl);
    expect(before.status).toBe(200);
    expect(before.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const r = await edit(apart.url, token, { documentId: doc.id, agent: doc.agent, seq: 0, parents: doc.version, ops: [{ insert: { pos: 1, text: '!' } }] });
    expect(r.errors).toBeUndefined();
    const after = await scrape(metricsUrl);
    expect((after.samples.get('cowrite_committed_rows_total') ?? 0) - (before.samples.get('cowrite_committed_rows_total') ?? 0)).toBe(1);
    expect((await fetch(`http://127.0.0.1:${apart.server.metricsPort}/graphql`)).status).toBe(404);
    await apart.server.stop();
    await expect(fetch(`http://127.0.0.1:${apart.server.metricsPort}/metrics`)).rejects.toThrow();
  });
});
