import { describe, expect, it } from 'vitest';
import { codeOf, edit, gql, join, newDocument, newUser, ok, twoEditors } from '../helpers/client.js';
import { useServer } from '../helpers/fixture.js';
import { crashFeedThread } from '../helpers/server.js';

// Every read of the current text is checked out on the change-feed thread (as a document's reads are
// once a checkout on the main thread has been slow), not on the thread that takes edits.
const env = useServer({ collab: { readOffloadMs: 0 } } as never);

const STATE = 'query($d: ID!) { document(id: $d) { content length version } }';

describe('reads checked out on the change-feed thread', () => {
  it('see every acknowledged edit, with the version and length of the same point; past versions too', async () => {
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, 'ab');
    let parents: unknown = doc.version;
    let text = 'ab';
    const seen: { version: unknown; text: string }[] = [];
    for (let i = 0; i < 20; i++) {
      const ch = i % 3 === 0 ? '🙂' : String.fromCharCode(99 + i);
      const pos = i % [...text].length;
      const r = await edit(env.url, token, { documentId: doc.id, agent: doc.agent, seq: i, parents, ops: [{ insert: { pos, text: ch } }] });
      expect(r.errors).toBeUndefined();
      parents = r.data.editDocument.version;
      const chars = [...text];
      chars.splice(pos, 0, ch);
      text = chars.join('');
      const state = (await ok(env.url, STATE, { d: doc.id }, token)).document;
      expect(state).toEqual({ content: text, length: [...text].length, version: parents });
      seen.push({ version: parents, text });
    }
    for (const s of seen.filter((_, i) => i % 4 === 0)) {
      const at = await ok(env.url, 'query($d: ID!, $v: Version!) { document(id: $d) { contentAt(version: $v) } }', { d: doc.id, v: s.version }, token);
      expect(at.document.contentAt).toBe(s.text);
    }
  });

  it('joinDocument gives the text at the version it gives, while two writers edit concurrently; blame too', async () => {
    const { alice, bob, doc, b } = await twoEditors(env.url, '0123456789');
    const writers = [
      { token: alice.token, agent: doc.agent, parents: doc.version as unknown, seq: 0 },
      { token: bob.token, agent: b.agent, parents: b.version as unknown, seq: 0 },
    ];
    const joins: { content: string; version: unknown }[] = [];
    for (let round = 0; round < 10; round++) {
      // Both writers edit against their own last version (concurrently with each other), and a
      // newcomer joins meanwhile.
      const [, , joined] = await Promise.all([
        ...writers.map(async (w) => {
          const r = await edit(env.url, w.token, { documentId: doc.id, agent: w.agent, seq: w.seq, parents: w.parents, ops: [{ insert: { pos: 1, text: 'x' } }] });
          expect(r.errors).toBeUndefined();
          w.parents = r.data.editDocument.version;
          w.seq++;
        }),
        join(env.url, bob.token, doc.id),
      ]);
      joins.push(joined as { content: string; version: unknown });
    }
    // Each join's text is the document's text at the version it came with.
    for (const j of joins) {
      const at = (await ok(env.url, 'query($d: ID!, $v: Version!) { document(id: $d) { contentAt(version: $v) } }', { d: doc.id, v: j.version }, alice.token)).document.contentAt;
      expect(j.content).toBe(at);
    }
    const final = (await ok(env.url, STATE, { d: doc.id }, alice.token)).document;
    expect([...final.content].filter((c) => c === 'x')).toHaveLength(20);
    // Blame, also read there: every character of the text, each x by the writer that typed it.
    const spans = (await ok(env.url, 'query($d: ID!) { document(id: $d) { authorship { text userId } } }', { d: doc.id }, alice.token)).document.authorship as { text: string; userId: string }[];
    expect(spans.map((s) => s.text).join('')).toBe(final.content);
    const xsBy = (id: string) => spans.filter((s) => s.userId === id).reduce((n, s) => n + [...s.text].filter((c) => c === 'x').length, 0);
    expect([xsBy(alice.id), xsBy(bob.id)]).toEqual([10, 10]);
  });

  it('go on after the change-feed thread is restarted', async () => {
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, 'feed');
    expect((await ok(env.url, STATE, { d: doc.id }, token)).document.content).toBe('feed');
    await crashFeedThread(env.server);
    // A read caught by the restart is refused as UNAVAILABLE (retry); after that they are answered.
    let r = await gql(env.url, STATE, { d: doc.id }, token);
    for (let i = 0; i < 20 && codeOf(r) === 'UNAVAILABLE'; i++) {
      await new Promise((res) => setTimeout(res, 50));
      r = await gql(env.url, STATE, { d: doc.id }, token);
    }
    expect(r.errors).toBeUndefined();
    expect(r.data.document.content).toBe('feed');
    const e = await edit(env.url, token, { documentId: doc.id, agent: doc.agent, seq: 0, parents: r.data.document.version, ops: [{ insert: { pos: 4, text: '!' } }] });
    expect(e.errors).toBeUndefined();
    expect((await ok(env.url, STATE, { d: doc.id }, token)).document.content).toBe('feed!');
  });
});
