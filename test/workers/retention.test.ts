import { quickAddJob, runOnce } from 'graphile-worker';
import { describe, expect, it } from 'vitest';
import { taskList } from '../../workers/index.js';
import { codeOf, gql, newDocument, newUser, ok } from '../helpers/client.js';
import { useServer } from '../helpers/fixture.js';

const s = useServer();

const count = async (sql: string, params: unknown[] = []) => Number((await s.pool.query(sql, params)).rows[0].count);

/** Runs a job now, twice: tasks must be safe to run again. */
async function runTwice(task: string, payload: object) {
  for (let i = 0; i < 2; i++) {
    await quickAddJob({ pgPool: s.pool }, task, payload);
    await runOnce({ pgPool: s.pool, taskList });
  }
}

describe('retention jobs', () => {
  it('document__purge removes documents past their time in the trash, history and all, and nothing else; twice is the same as once', async () => {
    const u = await newUser(s.url);
    const old = await newDocument(s.url, u.token, 'old text');
    const recent = await newDocument(s.url, u.token, 'recent');
    const restored = await newDocument(s.url, u.token, 'restored');
    await newDocument(s.url, u.token, 'kept');
    for (const d of [old, recent, restored]) await ok(s.url, 'mutation($d: ID!) { deleteDocument(documentId: $d) { id } }', { d: d.id }, u.token);
    await ok(s.url, 'mutation($d: ID!) { restoreDocument(documentId: $d) { id } }', { d: restored.id }, u.token);
    // As if `old` went to the trash 31 days ago (and `restored` had, before it was restored).
    await s.pool.query(`UPDATE documents SET deleted_at = now() - interval '31 days' WHERE id = $1`, [old.id]);
    expect(await count('SELECT count(*) FROM operations WHERE document_id = $1', [old.id])).toBeGreaterThan(0);

    await runTwice('document__purge', { retentionDays: 30 });

    expect(await count('SELECT count(*) FROM documents WHERE id = $1', [old.id])).toBe(0);
    for (const table of ['operations', 'snapshots', 'document_members', 'document_agents', 'versions', 'share_links']) {
      expect(await count(`SELECT count(*) FROM ${table} WHERE document_id = $1`, [old.id]), table).toBe(0);
    }
    expect(await count(`SELECT count(*) FROM audit_log WHERE document_id = $1 AND action = 'document.purged'`, [old.id])).toBe(1);
    const trash = await ok(s.url, '{ documents(filter: TRASH) { edges { node { id } } } }', {}, u.token);
    expect(trash.documents.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([recent.id]);
    const all = await ok(s.url, '{ documents { edges { node { id content } } } }', {}, u.token);
    expect(all.documents.edges.map((e: { node: { content: string } }) => e.node.content).sort()).toEqual(['kept', 'restored']);
    expect(codeOf(await gql(s.url, 'mutation($d: ID!) { restoreDocument(documentId: $d) { id } }', { d: old.id }, u.token))).toBe('NOT_FOUND');
  });

  it('deleteDocument queues its purge job in the same transaction, keyed by document', async () => {
    const u = await newUser(s.url);
    const d = await newDocument(s.url, u.token, 'x');
    await ok(s.url, 'mutation($d: ID!) { deleteDocument(documentId: $d) { id } }', { d: d.id }, u.token);
    const jobs = await s.pool.query(`SELECT key, run_at > now() + interval '29 days' AS later FROM graphile_worker.jobs WHERE task_identifier = 'document__purge'`);
    expect(jobs.rows).toContainEqual({ key: `document__purge:${d.id}`, later: true });
  });

  it('audit__prune deletes only records past retention; session__expire only sessions long expired or revoked', async () => {
    const u = await newUser(s.url);
    await s.pool.query(`INSERT INTO audit_log (actor_id, action, at) VALUES ($1, 'session.signed_in', now() - interval '400 days'), ($1, 'session.signed_in', now() - interval '10 days')`, [u.id]);
    const before = await count('SELECT count(*) FROM audit_log WHERE actor_id = $1', [u.id]);
    await runTwice('audit__prune', { retentionDays: 365 });
    expect(await count('SELECT count(*) FROM audit_log WHERE actor_id = $1', [u.id])).toBe(before - 1);
    expect(await count(`SELECT count(*) FROM audit_log WHERE at < now() - interval '365 days'`)).toBe(0);
    // The log is append-only: a record cannot be rewritten.
    await expect(s.pool.query(`UPDATE audit_log SET action = 'x' WHERE actor_id = $1`, [u.id])).rejects.toThrow(/append-only/);

    await s.pool.query(`UPDATE sessions SET expires_at = now() - interval '2 days' WHERE user_id = $1`, [u.id]);
    const other = await newUser(s.url);
    await runTwice('session__expire', {});
    expect(await count('SELECT count(*) FROM sessions WHERE user_id = $1', [u.id])).toBe(0);
    expect(await count('SELECT count(*) FROM sessions WHERE user_id = $1', [other.id])).toBe(1);
    expect((await ok(s.url, '{ me { id } }', {}, other.token)).me.id).toBe(other.id);
  });
});
