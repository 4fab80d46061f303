import { describe, expect, it } from 'vitest';
import { CONTENT, codeOf, content, edit, gql, newDocument, newUser, ok, replay, subscribeChanges, wsClient } from '../helpers/client.js';
import { useServer } from '../helpers/fixture.js';

const env = useServer();

describe('the collaboration contract', () => {
  it('counts positions and lengths in code points', async () => {
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, 'a😀b');
    const c = await content(env.url, token, doc.id);
    expect(c.length).toBe(3);
    const r = await edit(env.url, token, { documentId: doc.id, agent: doc.agent, seq: 0, parents: c.version, ops: [{ insert: { pos: 2, text: 'X' } }] });
    expect(r.errors).toBeUndefined();
    expect((await content(env.url, token, doc.id)).content).toBe('a😀Xb');
  });

  it('writes initial content with an agent of the creator, visible in the version', async () => {
    const { token } = await newUser(env.url);
    const d = await ok(env.url, 'mutation { createDocument(input: { title: "t", content: "hello" }) { document { id content length version } } }', {}, token);
    const doc = d.createDocument.document;
    expect(doc.content).toBe('hello');
    expect(doc.length).toBe(5);
    expect(doc.version).toHaveLength(1);
    expect(doc.version[0][1]).toBe(4);
    const empty = await ok(env.url, 'mutation { createDocument(input: { title: "e" }) { document { content version } } }', {}, token);
    expect(empty.createDocument.document).toEqual({ content: '', version: [] });
  });

  it('1. merges concurrent edits made from the same version: both texts are kept', async () => {
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, 'base');
    const other = await ok(env.url, 'mutation($d: ID!) { joinDocument(documentId: $d) { agent } }', { d: doc.id }, token);
    const [a, b] = await Promise.all([
      edit(env.url, token, { documentId: doc.id, agent: doc.agent, seq: 0, parents: doc.version, ops: [{ insert: { pos: 0, text: 'AAA ' } }] }),
      edit(env.url, token, { documentId: doc.id, agent: other.joinDocument.agent, seq: 0, parents: doc.version, ops: [{ insert: { pos: 4, text: ' BBB' } }] }),
    ]);
    expect(a.errors).toBeUndefined();
    expect(b.errors).toBeUndefined();
    expect((await content(env.url, token, doc.id)).content).toBe('AAA base BBB');
    // A stale edit (made against the original version) is merged too.
    const c = await edit(env.url, token, { documentId: doc.id, agent: doc.agent, seq: 4, parents: doc.version, ops: [{ delete: { pos: 0, len: 4 } }] });
    expect(c.errors).toBeUndefined();
    expect((await content(env.url, token, doc.id)).content).toBe('AAA  BBB');
  });

  it('2. an acknowledged edit is committed in PostgreSQL when the mutation returns', async () => {
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, '');
    const r = await edit(env.url, token, { documentId: doc.id, agent: doc.agent, seq: 0, parents: [], ops: [{ insert: { pos: 0, text: 'durable' } }] });
    expect(r.data.editDocument.version).toEqual([[doc.agent, 6]]);
    const pg = (await import('pg')).default;
    const c = new pg.Client({ connectionString: env.db.url });
    await c.connect();
    const rows = await c.query('SELECT agent, seq_start, seq_end, inserted FROM operations WHERE document_id = $1', [doc.id]);
    await c.end();
    expect(rows.rows).toEqual([{ agent: doc.agent, seq_start: 0, seq_end: 7, inserted: 7 }]);
  });

  it('3. a retried edit changes nothing; a partial overlap and a seq gap are refused', async () => {
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, '');
    const input = { documentId: doc.id, agent: doc.agent, seq: 0, parents: [], ops: [{ insert: { pos: 0, text: 'once' } }] };
    const first = await edit(env.url, token, input);
    const again = await edit(env.url, token, input);
    expect(again.errors).toBeUndefined();
    expect(again.data.editDocument.version).toEqual(first.data.editDocument.version);
    expect((await content(env.url, token, doc.id)).content).toBe('once');
    const overlap = await edit(env.url, token, { ...input, seq: 2, parents: [[doc.agent, 3]] });
    expect(codeOf(overlap)).toBe('BAD_USER_INPUT');
    const gap = await edit(env.url, token, { ...input, seq: 9, parents: [[doc.agent, 3]] });
    expect(codeOf(gap)).toBe('SEQ_GAP');
    expect((await content(env.url, token, doc.id)).content).toBe('once');
  });

  it('4. a subscription is a gap-free log: replaying its ops reproduces the content', async () => {
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, 'start');
    const client = wsClient(env.wsUrl, token);
    const sub = subscribeChanges(client, doc.id, []);
    let parents: unknown = doc.version;
    for (let i = 0; i < 20; i++) {
      const r = await edit(env.url, token, { documentId: doc.id, agent: doc.agent, seq: i, parents, ops: [{ insert: { pos: i % 3, text: String.fromCodePoint(0x1f600 + i) } }] });
      expect(r.errors).toBeUndefined();
      parents = r.data.editDocument.version;
    }
    const final = await content(env.url, token, doc.id);
    await sub.until(() => JSON.stringify(sub.events.at(-1)?.version) === JSON.stringify(final.version));
    expect(replay('', sub.events)).toBe(final.content);
    sub.dispose();
    await client.dispose();
  });

  it('5. a client that resubscribes with the last version it saw gets exactly what it missed', async () => {
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, 'x');
    const client = wsClient(env.wsUrl, token);
    const sub = subscribeChanges(client, doc.id, doc.version);
    await edit(env.url, token, { documentId: doc.id, agent: doc.agent, seq: 0, parents: doc.version, ops: [{ insert: { pos: 1, text: 'y' } }] });
    await sub.until(() => sub.events.length > 0);
    const seen = sub.events.at(-1)!.version;
    const textAtSeen = replay('x', sub.events);
    sub.dispose();
    await client.dispose(); // the socket drops
    await edit(env.url, token, { documentId: doc.id, agent: doc.agent, seq: 1, parents: seen, ops: [{ insert: { pos: 0, text: 'missed ' } }] });
    const client2 = wsClient(env.wsUrl, token);
    const resumed = subscribeChanges(client2, doc.id, seen);
    await resumed.until(() => resumed.events.length > 0);
    expect(replay(textAtSeen, resumed.events)).toBe('missed xy');
    await edit(env.url, token, { documentId: doc.id, agent: doc.agent, seq: 8, parents: resumed.events.at(-1)!.version, ops: [{ insert: { pos: 9, text: '!' } }] });
    await resumed.until(() => replay(textAtSeen, resumed.events) === 'missed xy!');
    resumed.dispose();
    // A version the document does not have cannot be resumed from.
    const unknown = subscribeChanges(client2, doc.id, [['nobody', 5]]);
    await unknown.until(() => unknown.errors.length > 0 || unknown.done);
    expect(JSON.stringify(unknown.errors)).toContain('UNKNOWN_VERSION');
    await client2.dispose();
  });

  it('6. rejects invalid ops with a clear code and leaves the document loadable', async () => {
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, 'abc');
    const base = { documentId: doc.id, agent: doc.agent, seq: 0, parents: doc.version };
    const cases: [unknown, string][] = [
      [{ ...base, ops: [{ insert: { pos: 4, text: 'x' } }] }, 'BAD_USER_INPUT'],
      [{ ...base, ops: [{ insert: { pos: -1, text: 'x' } }] }, 'BAD_USER_INPUT'],
      [{ ...base, ops: [{ delete: { pos: 2, len: 2 } }] }, 'BAD_USER_INPUT'],
      [{ ...base, ops: [{ insert: { pos: 0, text: '' } }] }, 'BAD_USER_INPUT'],
      [{ ...base, ops: [{ delete: { pos: 0, len: 0 } }] }, 'BAD_USER_INPUT'],
      [{ ...base, ops: [] }, 'BAD_USER_INPUT'],
      [{ ...base, ops: [{ insert: { pos: 0, text: 'x' }, delete: { pos: 0, len: 1 } }] }, 'BAD_USER_INPUT'],
      [{ ...base, parents: [['nobody', 3]], ops: [{ insert: { pos: 0, text: 'x' } }] }, 'UNKNOWN_VERSION'],
      [{ ...base, parents: 'not a version', ops: [{ insert: { pos: 0, text: 'x' } }] }, 'BAD_USER_INPUT'],
      [{ ...base, ops: [{ insert: { pos: 0, text: 'a\ud800b' } }] }, 'BAD_USER_INPUT'],
    ];
    for (const [input, code] of cases) {
      const r = await gql(env.url, 'mutation($i: EditDocumentInput!) { editDocument(input: $i) { version } }', { i: input }, token);
      expect(codeOf(r), JSON.stringify(r)).toBe(code);
    }
    expect((await content(env.url, token, doc.id)).content).toBe('abc');
    const good = await edit(env.url, token, { ...base, ops: [{ insert: { pos: 3, text: 'd' } }] });
    expect(good.errors).toBeUndefined();
    expect((await content(env.url, token, doc.id)).content).toBe('abcd');
  });

  it('lists the caller\'s documents newest first, as a Relay connection', async () => {
    const { token } = await newUser(env.url, 'lister');
    const ids: string[] = [];
    for (const title of ['one', 'two', 'three']) ids.push((await newDocument(env.url, token, '', title)).id);
    const page = `query($after: String) { documents(first: 2, after: $after) { edges { cursor node { id title } } pageInfo { hasNextPage endCursor } } }`;
    const p1 = (await ok(env.url, page, {}, token)).documents;
    expect(p1.edges.map((e: any) => e.node.title)).toEqual(['three', 'two']);
    expect(p1.pageInfo.hasNextPage).toBe(true);
    const p2 = (await ok(env.url, page, { after: p1.pageInfo.endCursor }, token)).documents;
    expect(p2.edges.map((e: any) => e.node.id)).toEqual([ids[0]]);
    expect(p2.pageInfo.hasNextPage).toBe(false);
    const other = await newUser(env.url, 'nobody');
    expect((await ok(env.url, '{ documents { edges { node { id } } } }', {}, other.token)).documents.edges).toEqual([]);
    expect(codeOf(await gql(env.url, page, { after: 'garbage' }, token))).toBe('BAD_USER_INPUT');
  });

  it('requires a signed-in user and hides other users\' documents', async () => {
    const alice = await newUser(env.url, 'alice');
    const bob = await newUser(env.url, 'bob');
    const doc = await newDocument(env.url, alice.token, 'secret');
    expect(codeOf(await gql(env.url, CONTENT, { d: doc.id }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await gql(env.url, CONTENT, { d: doc.id }, 'not-a-token'))).toBe('UNAUTHENTICATED');
    expect((await gql(env.url, CONTENT, { d: doc.id }, bob.token)).data).toEqual({ document: null });
    const r = await edit(env.url, bob.token, { documentId: doc.id, agent: doc.agent, seq: 0, parents: doc.version, ops: [{ insert: { pos: 0, text: 'x' } }] });
    expect(codeOf(r)).toBe('NOT_FOUND');
  });
});
