import { describe, expect, it } from 'vitest';
import { codeOf, content, edit, gql, join, newDocument, newUser, ok, replay, subscribeChanges, subscribePresence, twoEditors, UPDATE_PRESENCE, wsClient } from '../helpers/client.js';
import { useServer } from '../helpers/fixture.js';
import { scrape } from '../helpers/metrics.js';
import { crashFeedThread } from '../helpers/server.js';

// Every read of the current text is checked out on the change-feed thread (as a document's reads are
// once a checkout on the main thread has been slow), not on the thread that takes edits.
const env = useServer({ collab: { readOffloadMs: 0 } } as never);

const STATE = 'query($d: ID!) { document(id: $d) { content length version } }';

// Here no read is ever slow enough to be sent there: only concurrent edits do it (20 of them).
const crowdingLog: { msg: string; documentId?: string; concurrentEdits?: number }[] = [];
const crowding = useServer({ collab: { readOffloadMs: 60_000, readOffloadConcurrentEdits: 20 } } as never, { write: (line: string) => void crowdingLog.push(JSON.parse(line)) });

/** How many reads of `what` the server did on the change-feed thread (its Prometheus counter). */
async function offloaded(graphqlUrl: string, what: string): Promise<number> {
  return (await scrape(graphqlUrl)).samples.get(`cowrite_offloaded_reads_total{what="${what}"}`) ?? 0;
}

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

  it('move presence cursors through later edits there too, each time from where they were last shown', async () => {
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, 'hello 😀 world');
    const two = await join(env.url, token, doc.id);
    const ws = wsClient(env.wsUrl, token);
    const watcher = subscribePresence(ws, doc.id);
    const held = subscribePresence(ws, doc.id, two.agent);
    await watcher.until(() => watcher.present.has(two.agent));
    await gql(env.url, UPDATE_PRESENCE, { d: doc.id, agent: two.agent, cursor: { anchor: 8, head: 13 }, version: doc.version }, token);
    await watcher.until(() => watcher.present.get(two.agent)?.cursor?.anchor === 8);
    let parents: unknown = doc.version;
    for (let i = 0; i < 6; i++) {
      // Typing before the selection pushes it right; each move is delivered with the version it is at.
      const r = await edit(env.url, token, { documentId: doc.id, agent: doc.agent, seq: i, parents, ops: [{ insert: { pos: 0, text: i % 2 ? '¡' : '🙂' } }] });
      expect(r.errors).toBeUndefined();
      parents = r.data.editDocument.version;
      await watcher.until(() => watcher.present.get(two.agent)?.cursor?.anchor === 9 + i);
      const now = await content(env.url, token, doc.id);
      await watcher.until(() => JSON.stringify(watcher.present.get(two.agent)?.version) === JSON.stringify(now.version));
      const c = watcher.present.get(two.agent)!.cursor!;
      expect(Array.from(now.content).slice(c.anchor, c.head).join('')).toBe('world');
    }
    held.dispose();
    watcher.dispose();
    await ws.dispose();
  });

  it('of a document that took many concurrent edits go there before any of them is slow; linear editing does not send them', async () => {
    const url = crowding.url;
    // One writer, 30 edits each on the last version: reads stay on the main thread.
    const { token } = await newUser(url);
    const solo = await newDocument(url, token, '');
    let parents: unknown = solo.version;
    for (let i = 0; i < 30; i++) {
      const r = await edit(url, token, { documentId: solo.id, agent: solo.agent, seq: i, parents, ops: [{ insert: { pos: i, text: 's' } }] });
      parents = r.data.editDocument.version;
    }
    const before = await offloaded(url, 'text');
    expect((await ok(url, STATE, { d: solo.id }, token)).document.content).toBe('s'.repeat(30));
    expect(await offloaded(url, 'text')).toBe(before);

    // Two writers who never see each other's edits: once 20 were committed onto concurrent heads,
    // the text is read on the change-feed thread, and it is still every acknowledged edit.
    const { alice, bob, doc, b } = await twoEditors(url, '0123456789');
    const writers = [
      { token: alice.token, agent: doc.agent, parents: doc.version as unknown, seq: 0, text: 'a' },
      { token: bob.token, agent: b.agent, parents: b.version as unknown, seq: 0, text: 'b' },
    ];
    const round = () =>
      Promise.all(
        writers.map(async (w) => {
          const r = await edit(url, w.token, { documentId: doc.id, agent: w.agent, seq: w.seq, parents: w.parents, ops: [{ insert: { pos: 5, text: w.text } }] });
          expect(r.errors).toBeUndefined();
          w.parents = r.data.editDocument.version;
          w.seq++;
        }),
      );
    for (let i = 0; i < 4; i++) await round();
    const early = (await ok(url, STATE, { d: doc.id }, alice.token)).document;
    expect(early.length).toBe(18);
    expect(await offloaded(url, 'text')).toBe(before);
    for (let i = 0; i < 12; i++) await round();
    const late = (await ok(url, STATE, { d: doc.id }, alice.token)).document;
    expect(await offloaded(url, 'text')).toBe(before + 1);
    expect([...late.content].filter((c) => c === 'a')).toHaveLength(16);
    expect([...late.content].filter((c) => c === 'b')).toHaveLength(16);
    expect(late.content.startsWith('01234') && late.content.endsWith('56789')).toBe(true);
    expect(late.length).toBe(42);

    // Cursors sent without a version on such a document: the text's length there is not measured
    // for each, nor waited for. They refer to the newest version whose length was learnt (the read
    // above); once that is a second old, one measurement of the current one runs meanwhile, and
    // later cursors refer to that.
    await round();
    const cursor = (c: { anchor: number; head: number }) => gql(url, UPDATE_PRESENCE, { d: doc.id, agent: doc.agent, cursor: c }, alice.token);
    const soon = await cursor({ anchor: 1, head: 2 });
    expect(soon.errors).toBeUndefined();
    expect(soon.data.updatePresence.version).toEqual(late.version);
    expect(codeOf(await cursor({ anchor: 1, head: 43 }))).toBe('BAD_USER_INPUT'); // past the end there
    await new Promise((r) => setTimeout(r, 1_100));
    const lengthReads = await offloaded(url, 'length');
    const together = await Promise.all([1, 2, 3].map((k) => cursor({ anchor: k, head: k })));
    expect(together.map((r) => r.errors)).toEqual([undefined, undefined, undefined]);
    expect(await offloaded(url, 'length')).toBe(lengthReads + 1);
    const current = (await content(url, alice.token, doc.id)).version; // nothing was edited since
    // The one that started the measurement did not wait for it; any that came after it ended may refer to its version.
    const versions = together.map((r) => JSON.stringify(r.data.updatePresence.version));
    expect(versions).toContain(JSON.stringify(late.version));
    for (const v of versions) expect([JSON.stringify(late.version), JSON.stringify(current)]).toContain(v);
    let after = await cursor({ anchor: 1, head: 1 });
    for (let i = 0; i < 50 && JSON.stringify(after.data?.updatePresence.version) !== JSON.stringify(current); i++) {
      await new Promise((r) => setTimeout(r, 20));
      after = await cursor({ anchor: 1, head: 1 });
    }
    expect(after.data.updatePresence.version).toEqual(current);
    expect(await offloaded(url, 'length')).toBe(lengthReads + 1);

    // Operators are told, once, which document and why; not for the linear one.
    const told = crowdingLog.filter((l) => l.msg === 'document reads moved to the change-feed thread');
    expect(told.map((l) => l.documentId)).toEqual([doc.id]);
    expect(told[0]!.concurrentEdits).toBeGreaterThanOrEqual(20);
  });

  it('learn the length at each version they send out, so edits from it need no checkout; an unheard-of one is measured there', async () => {
    type Two = Awaited<ReturnType<typeof twoEditors>>;
    const type = (t: Two, who: 'alice' | 'bob', seq: number, parents: unknown, pos: number, text: string) =>
      edit(env.url, t[who].token, { documentId: t.doc.id, agent: who === 'alice' ? t.doc.agent : t.b.agent, seq, parents, ops: [{ insert: { pos, text } }] });

    // A subscriber's client edits from the version of the last event it got (the usual client).
    const one = await twoEditors(env.url, 'abc');
    const ws = wsClient(env.wsUrl, one.alice.token);
    const sub = subscribeChanges(ws, one.doc.id, one.doc.version);
    const first = await type(one, 'alice', 0, one.doc.version, 0, 'A');
    await sub.until(() => replay('abc', sub.events) === 'Aabc'); // the subscription is live
    // Alice and Bob type at once (Bob from the first version): the text then has two heads.
    const [ra, rb] = await Promise.all([type(one, 'alice', 1, first.data.editDocument.version, 1, 'a'), type(one, 'bob', 0, one.b.version, 3, 'B')]);
    expect(ra.errors ?? rb.errors).toBeUndefined();
    await sub.until(() => replay('abc', sub.events) === 'AaabcB');
    const heard = sub.events[sub.events.length - 1]!.version;
    expect(heard).toHaveLength(2);
    const before = await offloaded(env.url, 'length');
    expect(codeOf(await type(one, 'alice', 2, heard, 7, '!'))).toBe('BAD_USER_INPUT'); // past the end: the length is known, and right
    expect((await type(one, 'alice', 2, heard, 6, '!')).errors).toBeUndefined();
    expect(await offloaded(env.url, 'length')).toBe(before);
    expect((await content(env.url, one.alice.token, one.doc.id)).content).toBe('AaabcB!');
    sub.dispose();
    await ws.dispose();

    // A client that puts a version together itself (from both acknowledgements): its length is found
    // on the change-feed thread, once, and checks the edit the same way.
    const two = await twoEditors(env.url, 'abc');
    const [ta, tb] = await Promise.all([type(two, 'alice', 0, two.doc.version, 0, 'A'), type(two, 'bob', 0, two.b.version, 3, 'B')]);
    expect(ta.errors ?? tb.errors).toBeUndefined();
    const made = [...ta.data.editDocument.version, ...tb.data.editDocument.version];
    expect(codeOf(await type(two, 'alice', 1, made, 6, '!'))).toBe('BAD_USER_INPUT');
    expect(await offloaded(env.url, 'length')).toBe(before + 1);
    expect((await type(two, 'alice', 1, made, 5, '!')).errors).toBeUndefined();
    expect(await offloaded(env.url, 'length')).toBe(before + 1);
    expect((await content(env.url, two.alice.token, two.doc.id)).content).toBe('AabcB!');
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
