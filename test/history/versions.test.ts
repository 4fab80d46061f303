import { OpLog } from 'diamond-types-node';
import { describe, expect, it } from 'vitest';
import { PATCH, codeOf, content, edit, gql, join, newDocument, newUser, ok } from '../helpers/client.js';
import { textOf } from '../helpers/crdt.js';
import { useServer } from '../helpers/fixture.js';

const env = useServer();

const CONTENT_AT = 'query($d: ID!, $v: Version) { document(id: $d) { contentAt(version: $v) } }';

/** A deterministic pseudo-random sequence. */
function rng(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
}


describe('time travel', () => {
  it('contentAt any version a client saw equals the text that client computed at that version', async () => {
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, 'start');
    const random = rng(7);
    const clients = await Promise.all([0, 1, 2].map(async () => ({ log: new OpLog((await join(env.url, token, doc.id)).agent) })));
    // The clients' edits are all concurrent with the creator's initial text (they start from []).
    const init = (await ok(env.url, 'query($d: ID!) { document(id: $d) { version } }', { d: doc.id }, token)).document.version;
    const seen: { version: unknown; text: string }[] = [{ version: init, text: 'start' }];
    const alphabet = ['a', 'b', '😀', ' ', '中'];
    for (let round = 0; round < 40; round++) {
      const c = clients[Math.floor(random() * clients.length)]!;
      // Local edits (concurrent with the others' unsent ones), then one patch with all of them.
      const before = c.log.getLocalVersion();
      for (let k = 0; k < 1 + Math.floor(random() * 4); k++) {
        const len = Array.from(textOf(c.log)).length;
        if (len > 0 && random() < 0.3) c.log.del(Math.floor(random() * len), 1);
        else c.log.ins(Math.floor(random() * (len + 1)), alphabet[Math.floor(random() * alphabet.length)]!);
      }
      const patch = Buffer.from(c.log.getPatchSince(before)).toString('base64');
      const r = await gql(env.url, PATCH, { i: { documentId: doc.id, patch } }, token);
      expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
      seen.push({ version: c.log.getRemoteVersion(), text: textOf(c.log) });
      // Sometimes a client catches up with everything so far.
      if (random() < 0.4) {
        const other = clients[Math.floor(random() * clients.length)]!;
        other.log.addFromBytes(c.log.getPatchSince(new Uint32Array()));
        seen.push({ version: other.log.getRemoteVersion(), text: textOf(other.log) });
      }
    }
    for (const s of seen) {
      if ((s.version as unknown[]).length === 0) continue;
      const r = await gql(env.url, CONTENT_AT, { d: doc.id, v: s.version }, token);
      expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
      expect(r.data.document.contentAt, JSON.stringify(s.version)).toBe(s.text);
    }
    for (const c of clients) c.log.free();
  });

  it('contentAt(at) gives the text as it was at a moment', async () => {
    const { token } = await newUser(env.url);
    const before = new Date(Date.now() - 1_000).toISOString();
    const doc = await newDocument(env.url, token, 'one');
    await new Promise((r) => setTimeout(r, 30));
    const t1 = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 30));
    const r = await edit(env.url, token, { documentId: doc.id, agent: doc.agent, seq: 0, parents: doc.version, ops: [{ insert: { pos: 3, text: ' two' } }] });
    expect(r.errors).toBeUndefined();
    const t2 = new Date().toISOString();
    const at = async (when: string) => (await ok(env.url, 'query($d: ID!, $at: DateTime) { document(id: $d) { contentAt(at: $at) } }', { d: doc.id, at: when }, token)).document.contentAt;
    expect(await at(before)).toBe('');
    expect(await at(t1)).toBe('one');
    expect(await at(t2)).toBe('one two');
    expect(codeOf(await gql(env.url, 'query($d: ID!) { document(id: $d) { contentAt } }', { d: doc.id }, token))).toBe('BAD_USER_INPUT');
    expect(codeOf(await gql(env.url, 'query($d: ID!, $v: Version, $at: DateTime) { document(id: $d) { contentAt(version: $v, at: $at) } }', { d: doc.id, v: doc.version, at: t2 }, token))).toBe('BAD_USER_INPUT');
  });

  it('refuses a version the document does not have', async () => {
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, 'abc');
    const r = await gql(env.url, CONTENT_AT, { d: doc.id, v: [['nobody', 0]] }, token);
    expect(codeOf(r)).toBe('UNKNOWN_VERSION');
  });
});

const VERSION_FIELDS = 'id name description version authorId createdAt content';

describe('named versions', () => {
  it('createVersion saves the current version; versions lists them newest first with their content; rename and delete keep the history', async () => {
    const { token, id: userId } = await newUser(env.url);
    const doc = await newDocument(env.url, token, 'one');
    const v1 = (await ok(env.url, `mutation($d: ID!) { createVersion(documentId: $d, name: "first draft") { ${VERSION_FIELDS} } }`, { d: doc.id }, token)).createVersion;
    expect(v1).toMatchObject({ name: 'first draft', description: null, version: doc.version, authorId: userId, content: 'one' });
    const r = await edit(env.url, token, { documentId: doc.id, agent: doc.agent, seq: 0, parents: doc.version, ops: [{ insert: { pos: 3, text: ' two' } }] });
    expect(r.errors).toBeUndefined();
    const v2 = (await ok(env.url, `mutation($d: ID!) { createVersion(documentId: $d, name: "  second ", description: "more") { ${VERSION_FIELDS} } }`, { d: doc.id }, token)).createVersion;
    expect(v2).toMatchObject({ name: 'second', description: 'more', content: 'one two', version: r.data.editDocument.version });
    // Operation and character counts: the initial text and one edit; 7 code points.
    const counts = (await ok(env.url, 'query($d: ID!) { document(id: $d) { versions { edges { node { name editCount length } } } } }', { d: doc.id }, token)).document.versions.edges;
    expect(counts.map((e: any) => e.node)).toEqual([{ name: 'second', editCount: 2, length: 7 }, { name: 'first draft', editCount: 1, length: 3 }]);

    const list = async (after?: string) =>
      (await ok(env.url, `query($d: ID!, $a: String) { document(id: $d) { versions(first: 1, after: $a) { edges { cursor node { name content } } pageInfo { hasNextPage endCursor } } } }`, { d: doc.id, a: after }, token)).document.versions;
    const p1 = await list();
    expect(p1.edges.map((e: any) => e.node)).toEqual([{ name: 'second', content: 'one two' }]);
    expect(p1.pageInfo.hasNextPage).toBe(true);
    const p2 = await list(p1.pageInfo.endCursor);
    expect(p2.edges.map((e: any) => e.node)).toEqual([{ name: 'first draft', content: 'one' }]);
    expect(p2.pageInfo.hasNextPage).toBe(false);

    const renamed = (await ok(env.url, 'mutation($id: ID!) { renameVersion(id: $id, name: "draft 1") { name description content } }', { id: v1.id }, token)).renameVersion;
    expect(renamed).toEqual({ name: 'draft 1', description: null, content: 'one' });
    expect((await ok(env.url, 'mutation($id: ID!) { deleteVersion(id: $id) }', { id: v1.id }, token)).deleteVersion).toBe(true);
    expect((await list()).edges.map((e: any) => e.node.name)).toEqual(['second']);
    // The history is still all there: the deleted version's text is still reachable by its frontier.
    expect((await ok(env.url, CONTENT_AT, { d: doc.id, v: v1.version }, token)).document.contentAt).toBe('one');
    expect((await content(env.url, token, doc.id)).content).toBe('one two');
  });

  it("refuses an empty name, and other users' versions are NOT_FOUND", async () => {
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, 'x');
    expect(codeOf(await gql(env.url, 'mutation($d: ID!) { createVersion(documentId: $d, name: "  ") { id } }', { d: doc.id }, token))).toBe('BAD_USER_INPUT');
    const v = (await ok(env.url, 'mutation($d: ID!) { createVersion(documentId: $d, name: "mine") { id } }', { d: doc.id }, token)).createVersion;
    const other = await newUser(env.url);
    expect(codeOf(await gql(env.url, 'mutation($id: ID!) { deleteVersion(id: $id) }', { id: v.id }, other.token))).toBe('NOT_FOUND');
    expect(codeOf(await gql(env.url, 'mutation($id: ID!) { renameVersion(id: $id, name: "theirs") { id } }', { id: v.id }, other.token))).toBe('NOT_FOUND');
    expect(codeOf(await gql(env.url, 'mutation($d: ID!) { createVersion(documentId: $d, name: "x") { id } }', { d: doc.id }, other.token))).toBe('NOT_FOUND');
  });
});

describe('history as data', () => {
  it('document.operations lists each accepted write with author, agent, time and counts, newest first, filtered by user and time', async () => {
    const { token, id: userId } = await newUser(env.url);
    const doc = await newDocument(env.url, token, 'ab');
    const r1 = await edit(env.url, token, { documentId: doc.id, agent: doc.agent, seq: 0, parents: doc.version, ops: [{ insert: { pos: 2, text: 'cde' } }] });
    const r2 = await edit(env.url, token, { documentId: doc.id, agent: doc.agent, seq: 3, parents: r1.data.editDocument.version, ops: [{ delete: { pos: 0, len: 2 } }] });
    expect(r2.errors).toBeUndefined();
    const OPS = `query($d: ID!, $u: ID, $from: DateTime, $to: DateTime, $first: Int, $after: String) { document(id: $d) {
      operations(userId: $u, from: $from, to: $to, first: $first, after: $after) { edges { node { serverOrder agent kind authorId inserted deleted createdAt } } pageInfo { hasNextPage endCursor } } } }`;
    const all = (await ok(env.url, OPS, { d: doc.id }, token)).document.operations;
    const nodes = all.edges.map((e: any) => e.node);
    expect(nodes.map((n: any) => [n.serverOrder, n.kind, n.inserted, n.deleted])).toEqual([
      [3, 'EDIT', 0, 2],
      [2, 'EDIT', 3, 0],
      [1, 'EDIT', 2, 0],
    ]);
    expect(nodes.every((n: any) => n.authorId === userId)).toBe(true);
    const page = (await ok(env.url, OPS, { d: doc.id, first: 2 }, token)).document.operations;
    expect(page.pageInfo.hasNextPage).toBe(true);
    const rest = (await ok(env.url, OPS, { d: doc.id, first: 2, after: page.pageInfo.endCursor }, token)).document.operations;
    expect(rest.edges.map((e: any) => e.node.serverOrder)).toEqual([1]);
    const other = await newUser(env.url);
    expect((await ok(env.url, OPS, { d: doc.id, u: other.id }, token)).document.operations.edges).toEqual([]);
    expect((await ok(env.url, OPS, { d: doc.id, from: new Date(Date.now() + 60_000).toISOString() }, token)).document.operations.edges).toEqual([]);
    expect((await ok(env.url, OPS, { d: doc.id, to: nodes[0].createdAt }, token)).document.operations.edges).toHaveLength(3);
  });
});
