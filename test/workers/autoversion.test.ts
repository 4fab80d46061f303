import { quickAddJob, runOnce } from 'graphile-worker';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { taskList } from '../../workers/index.js';
import { codeOf, content, edit, gql, newDocument, newUser, ok } from '../helpers/client.js';
import { freshDatabase, quietPool } from '../helpers/db.js';
import { startServer, type TestServer } from '../helpers/server.js';

const VERSIONS = 'query($d: ID!) { document(id: $d) { versions(first: 20) { edges { node { id kind name version authorIds content editCount length } } } } }';

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function setup(collab: { autoVersionQuietMs: number; autoVersionMaxOps: number }): Promise<{ server: TestServer; pool: pg.Pool; dbUrl: string }> {
  const db = await freshDatabase();
  const server = await startServer(db.url, { runWorker: true, collab });
  const pool = quietPool(db.url);
  cleanup.push(async () => {
    await server.stop();
    await pool.end();
    await db.drop();
  });
  return { server, pool, dbUrl: db.url };
}

async function autoVersions(url: string, token: string, id: string, count: number) {
  for (let i = 0; i < 100; i++) {
    const list = (await ok(url, VERSIONS, { d: id }, token)).document.versions.edges.map((e: any) => e.node).filter((v: any) => v.kind === 'AUTO');
    if (list.length >= count) return list;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`fewer than ${count} automatic versions`);
}

describe('document__autoversion', () => {
  it('closes a burst of edits into an automatic version after a quiet period, with who took part', async () => {
    const { server, pool } = await setup({ autoVersionQuietMs: 300, autoVersionMaxOps: 1_000 });
    const { token, id: userId } = await newUser(server.url, 'ada');
    const doc = await newDocument(server.url, token, 'a');
    let parents: unknown = doc.version;
    for (let i = 0; i < 3; i++) {
      const r = await edit(server.url, token, { documentId: doc.id, agent: doc.agent, seq: i, parents, ops: [{ insert: { pos: 1 + i, text: String(i) } }] });
      parents = r.data.editDocument.version;
    }
    const [first] = await autoVersions(server.url, token, doc.id, 1);
    expect(first).toMatchObject({ kind: 'AUTO', name: 'Edits by ada', version: parents, authorIds: [userId], content: 'a012', editCount: 4, length: 4 });

    // A later burst gets a version of its own; the first stays.
    const r = await edit(server.url, token, { documentId: doc.id, agent: doc.agent, seq: 3, parents, ops: [{ delete: { pos: 0, len: 1 } }] });
    const list = await autoVersions(server.url, token, doc.id, 2);
    expect(list.map((v: any) => [v.content, v.editCount, v.length])).toEqual([['012', 5, 3], ['a012', 4, 4]]);
    expect(list[0].version).toEqual(r.data.editDocument.version);

    // Safe to run twice: with no new edits, more runs add nothing.
    for (let run = 0; run < 2; run++) {
      await quickAddJob({ pgPool: pool }, 'document__autoversion', { documentId: doc.id, quietMs: 0, maxOps: 1_000 });
      await runOnce({ pgPool: pool, taskList });
    }
    expect((await autoVersions(server.url, token, doc.id, 2)).length).toBe(2);
    // Automatic versions are history, not names: they cannot be renamed or deleted.
    expect(codeOf(await gql(server.url, 'mutation($id: ID!) { deleteVersion(id: $id) }', { id: first.id }, token))).toBe('BAD_USER_INPUT');
    expect(codeOf(await gql(server.url, 'mutation($id: ID!) { renameVersion(id: $id, name: "x") { id } }', { id: first.id }, token))).toBe('BAD_USER_INPUT');
    expect((await content(server.url, token, doc.id)).content).toBe('012');
  });

  it('closes a burst that grows past the size threshold without waiting for quiet', async () => {
    const { server } = await setup({ autoVersionQuietMs: 600_000, autoVersionMaxOps: 5 });
    const { token } = await newUser(server.url);
    const doc = await newDocument(server.url, token, '');
    let parents: unknown = doc.version;
    for (let i = 0; i < 5; i++) {
      const r = await edit(server.url, token, { documentId: doc.id, agent: doc.agent, seq: i, parents, ops: [{ insert: { pos: i, text: 'x' } }] });
      parents = r.data.editDocument.version;
    }
    const [v] = await autoVersions(server.url, token, doc.id, 1);
    expect(v.content).toBe('xxxxx');
    expect(v.version).toEqual(parents);
  });
});
