import { quickAddJob, runOnce } from 'graphile-worker';
import { describe, expect, it } from 'vitest';
import { taskList } from '../../workers/index.js';
import { content, edit, join, newDocument, newUser, ok, replay, share, subscribeChanges, wsClient } from '../helpers/client.js';
import { useServer } from '../helpers/fixture.js';
import { startServer } from '../helpers/server.js';

const env = useServer();

async function run(task: string, payload: object) {
  await quickAddJob({ pgPool: env.pool }, task, payload);
  await runOnce({ pgPool: env.pool, taskList });
}

const VERSIONS = 'query($d: ID!) { document(id: $d) { versions { edges { node { name kind version content } } } } }';
const BLAME = 'query($d: ID!, $v: Version) { document(id: $d) { authorship(version: $v) { length userId } } }';
const perChar = (spans: { length: number; userId: string }[]) => spans.flatMap((s) => Array(s.length).fill(s.userId));

describe('document__compact', () => {
  it('folds covered rows away; content, every old version, resume from an old version, blame and activity are unchanged; twice is the same as once', async () => {
    const ada = await newUser(env.url, 'ada');
    const bo = await newUser(env.url, 'bo');
    const doc = await newDocument(env.url, ada.token, 'start');
    await share(env.url, ada.token, doc.id, bo.email);
    const boAgent = (await join(env.url, bo.token, doc.id)).agent;
    const writers = [
      { token: ada.token, agent: doc.agent, seq: 0 },
      { token: bo.token, agent: boAgent, seq: 0 },
    ];
    const seen: { version: unknown; content: string }[] = [];
    for (let i = 0; i < 120; i++) {
      const w = writers[i % 2]!;
      const base = await content(env.url, ada.token, doc.id);
      const ops = i % 7 === 6 ? [{ delete: { pos: 1, len: 1 } }] : [{ insert: { pos: Array.from(base.content).length, text: i % 2 ? 'b' : 'a' } }];
      const r = await edit(env.url, w.token, { documentId: doc.id, agent: w.agent, seq: w.seq, parents: base.version, ops });
      expect(r.errors).toBeUndefined();
      w.seq += 1;
      if (i % 20 === 0) seen.push(await content(env.url, ada.token, doc.id));
    }
    await ok(env.url, 'mutation($d: ID!) { createVersion(documentId: $d, name: "named") { id } }', { d: doc.id }, ada.token);
    // The burst closes into an automatic version, a snapshot covers everything, the day is counted.
    await run('document__autoversion', { documentId: doc.id, quietMs: 0, maxOps: 1 });
    await run('document__snapshot', { documentId: doc.id });
    await run('analytics__rollup', {});
    const before = {
      now: await content(env.url, ada.token, doc.id),
      old: await Promise.all(seen.map(async (s) => (await ok(env.url, 'query($d: ID!, $v: Version!) { document(id: $d) { contentAt(version: $v) } }', { d: doc.id, v: s.version }, ada.token)).document.contentAt)),
      blame: perChar((await ok(env.url, BLAME, { d: doc.id }, ada.token)).document.authorship),
      oldBlame: perChar((await ok(env.url, BLAME, { d: doc.id, v: seen[2]!.version }, ada.token)).document.authorship),
      edits: Number((await env.pool.query('SELECT sum(edits) AS n FROM operations WHERE document_id = $1', [doc.id])).rows[0].n),
      versions: (await ok(env.url, VERSIONS, { d: doc.id }, ada.token)).document.versions.edges,
      rows: Number((await env.pool.query('SELECT count(*) AS n FROM operations WHERE document_id = $1', [doc.id])).rows[0].n),
    };
    expect(before.old).toEqual(seen.map((s) => s.content));
    expect(before.rows).toBe(121); // the initial text and 120 edits

    await run('document__compact', { documentId: doc.id, minAgeSeconds: 0 });
    const once = (await env.pool.query('SELECT server_order, seq_start, seq_end, edits FROM operations WHERE document_id = $1 ORDER BY server_order', [doc.id])).rows;
    await run('document__compact', { documentId: doc.id, minAgeSeconds: 0 });
    const twice = (await env.pool.query('SELECT server_order, seq_start, seq_end, edits FROM operations WHERE document_id = $1 ORDER BY server_order', [doc.id])).rows;
    expect(twice).toEqual(once);
    // One row per agent per minute (the test runs within a minute or two), none with a payload.
    expect(once.length).toBeLessThanOrEqual(3 * 3);
    expect(Number((await env.pool.query('SELECT count(*) AS n FROM operations WHERE document_id = $1 AND (ops IS NOT NULL OR patch IS NOT NULL)', [doc.id])).rows[0].n)).toBe(0);
    expect(Number((await env.pool.query('SELECT sum(edits) AS n FROM operations WHERE document_id = $1', [doc.id])).rows[0].n)).toBe(before.edits);

    // A fresh instance loads it (from the snapshot) and sees the same everything.
    const fresh = await startServer(env.db.url);
    try {
      expect(await content(fresh.url, ada.token, doc.id)).toEqual(before.now);
      for (const [i, s] of seen.entries()) {
        expect((await ok(fresh.url, 'query($d: ID!, $v: Version!) { document(id: $d) { contentAt(version: $v) } }', { d: doc.id, v: s.version }, ada.token)).document.contentAt).toBe(before.old[i]);
      }
      expect(perChar((await ok(fresh.url, BLAME, { d: doc.id }, ada.token)).document.authorship)).toEqual(before.blame);
      expect(before.versions.map((e: { node: { kind: string } }) => e.node.kind).sort()).toEqual(['AUTO', 'NAMED']);
      expect((await ok(fresh.url, VERSIONS, { d: doc.id }, ada.token)).document.versions.edges).toEqual(before.versions);
      expect(perChar((await ok(fresh.url, BLAME, { d: doc.id, v: seen[2]!.version }, ada.token)).document.authorship)).toEqual(before.oldBlame);
      // Resume from the oldest version a client saw: exactly what it missed, then live.
      const client = wsClient(fresh.wsUrl, ada.token);
      const sub = subscribeChanges(client, doc.id, seen[0]!.version);
      await sub.until(() => replay(seen[0]!.content, sub.events) === before.now.content);
      const r = await edit(fresh.url, ada.token, { documentId: doc.id, agent: doc.agent, seq: writers[0]!.seq, parents: before.now.version, ops: [{ insert: { pos: 0, text: '>' } }] });
      expect(r.errors).toBeUndefined();
      await sub.until(() => replay(seen[0]!.content, sub.events) === `>${before.now.content}`);
      sub.dispose();
      await client.dispose();
      const listed = await ok(fresh.url, 'query($d: ID!) { document(id: $d) { operations(first: 500) { edges { node { kind edits } } } } }', { d: doc.id }, ada.token);
      const kinds = listed.document.operations.edges.map((e: { node: { kind: string; edits: number } }) => e.node);
      expect(kinds[0]).toEqual({ kind: 'EDIT', edits: 1 });
      expect(kinds.slice(1).every((k: { kind: string }) => k.kind === 'FOLDED')).toBe(true);
      expect(kinds.reduce((n: number, k: { edits: number }) => n + k.edits, 0)).toBe(before.edits + 1);
    } finally {
      await fresh.stop();
    }
    // The day's activity is counted the same from folded rows.
    await run('analytics__rollup', {});
    const activity = (await env.pool.query('SELECT user_id, edits FROM activity_daily WHERE document_id = $1 ORDER BY user_id', [doc.id])).rows;
    expect(activity.reduce((n, a) => n + a.edits, 0)).toBe(before.edits + 1);
  });
});
