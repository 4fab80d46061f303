import { describe, expect, it } from 'vitest';
import { content, edit, join, newDocument, newUser, ok, replay, subscribeChanges, wsClient, type Change } from '../helpers/client.js';
import { useServer } from '../helpers/fixture.js';

const env = useServer();

const RESTORE = 'mutation($d: ID!, $v: Version!) { restoreVersion(documentId: $d, version: $v) { version document { content } } }';
const CONTENT_AT = 'query($d: ID!, $v: Version) { document(id: $d) { contentAt(version: $v) } }';

/** Applies positional ops (as the API returns them) to a text. */
const applyOps = (text: string, ops: Change['ops']) => replay(text, [{ ops } as Change]);

describe('restore, fork and diff', () => {
  it('restoreVersion brings back an old text with new operations: live for subscribers, old versions still reachable, undone by restoring again', async () => {
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, 'one\ntwo\n');
    const ws = wsClient(env.wsUrl, token);
    const sub = subscribeChanges(ws, doc.id, []);
    const v1 = doc.version;
    const r = await edit(env.url, token, { documentId: doc.id, agent: doc.agent, seq: 0, parents: v1, ops: [{ insert: { pos: 4, text: 'TWO and a half\n' } }, { delete: { pos: 19, len: 4 } }] });
    expect(r.errors).toBeUndefined();
    const v2 = r.data.editDocument.version;
    const edited = (await content(env.url, token, doc.id)).content;
    expect(edited).toBe('one\nTWO and a half\n');

    const restored = (await ok(env.url, RESTORE, { d: doc.id, v: v1 }, token)).restoreVersion;
    expect(restored.document.content).toBe('one\ntwo\n');
    await sub.until(() => replay('', sub.events) === 'one\ntwo\n');
    // Nothing was rewound: the edited version is still there, and so is the restore.
    expect((await ok(env.url, CONTENT_AT, { d: doc.id, v: v2 }, token)).document.contentAt).toBe(edited);
    expect((await ok(env.url, CONTENT_AT, { d: doc.id, v: restored.version }, token)).document.contentAt).toBe('one\ntwo\n');
    // Undo: restore the version before the restore.
    const undone = (await ok(env.url, RESTORE, { d: doc.id, v: v2 }, token)).restoreVersion;
    expect(undone.document.content).toBe(edited);
    await sub.until(() => replay('', sub.events) === edited);
    // Restoring the version you are at changes nothing.
    expect((await ok(env.url, RESTORE, { d: doc.id, v: undone.version }, token)).restoreVersion.version).toEqual(undone.version);
    sub.dispose();
    await ws.dispose();
  });

  it('a restore while two others type converges, and keeps what they typed after it', async () => {
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, 'base text\n');
    const v0 = doc.version;
    const ws = wsClient(env.wsUrl, token);
    const subs = [subscribeChanges(ws, doc.id, []), subscribeChanges(ws, doc.id, [])];
    const writers = await Promise.all([0, 1].map(async (i) => ({ i, ...(await join(env.url, token, doc.id)) })));
    let restoredAt = Infinity;
    const afterRestore: string[] = [];
    const typing = writers.map(async (w) => {
      let parents: unknown = w.version;
      let seq = 0;
      for (let k = 0; k < 30; k++) {
        const marker = `<${w.i}.${k}>`;
        const sentAt = Date.now();
        const r = await edit(env.url, token, { documentId: doc.id, agent: w.agent, seq, parents, ops: [{ insert: { pos: 0, text: marker } }] });
        expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
        if (sentAt > restoredAt) afterRestore.push(marker);
        parents = r.data.editDocument.version;
        seq += marker.length;
      }
    });
    await new Promise((r) => setTimeout(r, 100));
    await ok(env.url, RESTORE, { d: doc.id, v: v0 }, token);
    restoredAt = Date.now();
    await Promise.all(typing);
    const final = await content(env.url, token, doc.id);
    for (const s of subs) await s.until(() => replay('', s.events) === final.content);
    expect(final.content.endsWith('base text\n')).toBe(true);
    for (const m of afterRestore) expect(final.content).toContain(m);
    expect(afterRestore.length).toBeGreaterThan(0);
    for (const s of subs) s.dispose();
    await ws.dispose();
  });

  it('forkDocument makes a new document of yours from any version; diff gives ops and line hunks between versions', async () => {
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, 'a\nb\nc\n');
    const r = await edit(env.url, token, { documentId: doc.id, agent: doc.agent, seq: 0, parents: doc.version, ops: [{ delete: { pos: 2, len: 2 } }, { insert: { pos: 4, text: 'd😀\n' } }] });
    expect(r.errors).toBeUndefined();
    const now = (await content(env.url, token, doc.id)).content;
    expect(now).toBe('a\nc\nd😀\n');

    const fork = (await ok(env.url, 'mutation($d: ID!, $v: Version) { forkDocument(documentId: $d, version: $v, title: "fork") { document { id title content } } }', { d: doc.id, v: doc.version }, token)).forkDocument.document;
    expect(fork).toMatchObject({ title: 'fork', content: 'a\nb\nc\n' });
    expect(fork.id).not.toBe(doc.id);
    const mine = (await ok(env.url, 'query { documents(first: 5) { edges { node { id } } } }', {}, token)).documents.edges.map((e: any) => e.node.id);
    expect(mine).toContain(fork.id);

    const DIFF = `query($d: ID!, $from: Version!, $to: Version) { document(id: $d) { diff(from: $from, to: $to) {
      from to hunks { oldStart oldLines newStart newLines lines } ops { __typename ... on InsertOp { pos text } ... on DeleteOp { pos len } } } } }`;
    const d = (await ok(env.url, DIFF, { d: doc.id, from: doc.version }, token)).document.diff;
    expect(applyOps('a\nb\nc\n', d.ops)).toBe(now);
    expect(d.to).toEqual(r.data.editDocument.version);
    expect(d.hunks).toEqual([{ oldStart: 1, oldLines: 3, newStart: 1, newLines: 3, lines: [' a', '-b', ' c', '+d😀'] }]);
    const back = (await ok(env.url, DIFF, { d: doc.id, from: r.data.editDocument.version, to: doc.version }, token)).document.diff;
    expect(applyOps(now, back.ops)).toBe('a\nb\nc\n');
  });
});
