import { describe, expect, it } from 'vitest';
import { content, edit, newDocument, newUser, replay, subscribeChanges, twoEditors, wsClient } from '../helpers/client.js';
import { useServer } from '../helpers/fixture.js';

// A document keeps at most this many committed rows (or bytes of them) for a change feed nobody has
// subscribed to yet; past either, the change-feed thread gets its copy before anyone subscribes.
const env = useServer({ collab: { feedBacklogRows: 10, feedBacklogBytes: 64 * 1024 } } as never);

describe('a resident document edited long before anyone subscribes', () => {
  it('subscribers from any version, concurrent writers included, see exactly what was committed', async () => {
    const { alice, bob, doc, b } = await twoEditors(env.url, 'start');

    // 35 edits from two writers (past the bound before anyone subscribes), each writer's parents missing the other's
    // latest edits, then a subscriber from each of several versions seen along the way.
    let aParents: unknown = doc.version;
    let bParents: unknown = b.version;
    let aSeq = 0;
    let bSeq = 0;
    const seen: { version: unknown; text: string }[] = [{ version: doc.version, text: 'start' }];
    for (let i = 0; i < 35; i++) {
      const byAlice = i % 3 !== 2;
      const r = byAlice
        ? await edit(env.url, alice.token, { documentId: doc.id, agent: doc.agent, seq: aSeq++, parents: aParents, ops: [{ insert: { pos: 0, text: 'x' } }] })
        : await edit(env.url, bob.token, { documentId: doc.id, agent: b.agent, seq: bSeq++, parents: bParents, ops: [{ insert: { pos: 5, text: '🙂' } }] });
      expect(r.errors).toBeUndefined();
      if (byAlice) aParents = r.data.editDocument.version;
      else bParents = r.data.editDocument.version;
      if (i % 8 === 0) {
        const now = await content(env.url, alice.token, doc.id);
        seen.push({ version: now.version, text: now.content });
      }
    }
    const committed = (await content(env.url, alice.token, doc.id)).content;
    expect([...committed].filter((c) => c === 'x')).toHaveLength(24);
    expect([...committed].filter((c) => c === '🙂')).toHaveLength(11);

    const ws = wsClient(env.wsUrl, bob.token);
    const subs = [...seen.map((s) => ({ start: s.text, sub: subscribeChanges(ws, doc.id, s.version) })), { start: '', sub: subscribeChanges(ws, doc.id, []) }];
    for (const { start, sub } of subs) await sub.until(() => replay(start, sub.events) === committed);

    // And they stay live.
    const r = await edit(env.url, alice.token, { documentId: doc.id, agent: doc.agent, seq: aSeq, parents: aParents, ops: [{ insert: { pos: 0, text: 'Z' } }] });
    expect(r.errors).toBeUndefined();
    const after = (await content(env.url, alice.token, doc.id)).content;
    expect(after).toBe(`Z${committed}`);
    for (const { start, sub } of subs) await sub.until(() => replay(start, sub.events) === after);
    for (const { sub } of subs) sub.dispose();
    await ws.dispose();
  });

  it('a few large edits pass the bound by their size, and a subscriber from before them still gets them all', async () => {
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, '');
    let parents: unknown = doc.version;
    const versions: { version: unknown; text: string }[] = [{ version: doc.version, text: '' }];
    let text = '';
    // Five edits of 10,000 characters (about 20 KB each): under the row bound, over the byte bound.
    for (let i = 0; i < 5; i++) {
      const chunk = String.fromCharCode(97 + i).repeat(9_999) + '🙂';
      const r = await edit(env.url, token, { documentId: doc.id, agent: doc.agent, seq: i * 10_000, parents, ops: [{ insert: { pos: text.length ? [...text].length : 0, text: chunk } }] });
      expect(r.errors).toBeUndefined();
      parents = r.data.editDocument.version;
      text += chunk;
      versions.push({ version: parents, text });
    }
    expect((await content(env.url, token, doc.id)).content).toBe(text);
    const ws = wsClient(env.wsUrl, token);
    const subs = versions.map((v) => ({ start: v.text, sub: subscribeChanges(ws, doc.id, v.version) }));
    for (const { start, sub } of subs) await sub.until(() => replay(start, sub.events) === text);
    for (const { sub } of subs) sub.dispose();
    await ws.dispose();
  });
});
