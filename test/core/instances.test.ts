import { beforeAll, describe, expect, it } from 'vitest';
import { content, edit, join, newApiKey, newDocument, newUser, replay, subscribeChanges, wsClient } from '../helpers/client.js';
import { useTwoInstances } from '../helpers/fixture.js';
import { startServer, type TestServer } from '../helpers/server.js';

const instances = useTwoInstances();
let a: TestServer;
let b: TestServer;
beforeAll(() => {
  ({ a, b } = instances);
});

describe('several instances on one PostgreSQL and Redis', () => {
  it('streams edits made on one instance to subscribers of the other', async () => {
    const { token } = await newUser(a.url);
    const doc = await newDocument(a.url, token, 'hello');
    const wsB = wsClient(b.wsUrl, token);
    const sub = subscribeChanges(wsB, doc.id, []);
    await sub.until(() => sub.events.length > 0);
    const r = await edit(a.url, token, { documentId: doc.id, agent: doc.agent, seq: 0, parents: doc.version, ops: [{ insert: { pos: 5, text: ' world' } }] });
    expect(r.errors).toBeUndefined();
    await sub.until(() => replay('', sub.events) === 'hello world');
    expect((await content(b.url, token, doc.id)).content).toBe('hello world');
    sub.dispose();
    await wsB.dispose();
  });

  it('writers on both instances at once converge, and every stream on either instance is a valid log', async () => {
    const { token } = await newUser(a.url);
    const doc = await newDocument(a.url, token, '');
    const wsA = wsClient(a.wsUrl, token);
    const wsB = wsClient(b.wsUrl, token);
    const subA = subscribeChanges(wsA, doc.id, []);
    const subB = subscribeChanges(wsB, doc.id, []);
    // Four writers, two per instance, each sending its next edit against the version its last reply returned.
    const writers = await Promise.all(
      [a, b, a, b].map(async (s, i) => ({ s, i, ...(await join(s.url, token, doc.id)) })),
    );
    await Promise.all(
      writers.map(async (w) => {
        let parents: unknown = w.version;
        let seq = 0;
        let len = 0;
        for (let k = 0; k < 25; k++) {
          const text = `${w.i}${k % 10}`;
          const r = await edit(w.s.url, token, { documentId: doc.id, agent: w.agent, seq, parents, ops: [{ insert: { pos: len, text } }] });
          expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
          parents = r.data.editDocument.version;
          seq += 2;
          len += 2;
        }
      }),
    );
    // Each instance hears the other's last edits a moment after they are acknowledged (the contract
    // promises no read-your-writes across instances), so wait until both hold all 200 characters.
    const full = 4 * 25 * 2;
    let ca = await content(a.url, token, doc.id);
    let cb = await content(b.url, token, doc.id);
    for (let i = 0; i < 100 && (Array.from(ca.content).length < full || Array.from(cb.content).length < full); i++) {
      await new Promise((r) => setTimeout(r, 100));
      [ca, cb] = await Promise.all([content(a.url, token, doc.id), content(b.url, token, doc.id)]);
    }
    expect(Array.from(ca.content)).toHaveLength(full);
    expect(cb.content).toBe(ca.content);
    expect(cb.version).toEqual(ca.version);
    for (const sub of [subA, subB]) {
      await sub.until(() => replay('', sub.events) === ca.content);
    }
    subA.dispose();
    subB.dispose();
    await wsA.dispose();
    await wsB.dispose();
  });

  it("an instance that has not heard of another's latest edits accepts the agent's next edit (no false SEQ_GAP) and a subscription from that version (no false UNKNOWN_VERSION)", async () => {
    // An instance that gets no messages at all (no Redis): everything it learns, it reads from
    // PostgreSQL, as an instance does when a message is late or lost.
    const deaf = await startServer(instances.db.url);
    try {
      // Sessions live in Redis, which this instance does not use: an API key (in PostgreSQL) works on both.
      const { secret: token } = await newApiKey(a.url, (await newUser(a.url)).token);
      const doc = await newDocument(a.url, token, '');
      await join(deaf.url, token, doc.id); // it loads the document
      let parents: unknown = doc.version;
      for (let i = 0; i < 10; i++) {
        // The same agent, its next seq, on the other instance than its previous edit.
        const r = await edit((i % 2 ? deaf : a).url, token, { documentId: doc.id, agent: doc.agent, seq: i, parents, ops: [{ insert: { pos: i, text: String(i) } }] });
        expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
        parents = r.data.editDocument.version;
      }
      expect((await content(deaf.url, token, doc.id)).content).toBe('0123456789');
      // A subscriber resuming there from a version only the other instance has told it about (no UNKNOWN_VERSION).
      const r = await edit(a.url, token, { documentId: doc.id, agent: doc.agent, seq: 10, parents, ops: [{ insert: { pos: 10, text: '!' } }] });
      const ws = wsClient(deaf.wsUrl, token);
      const sub = subscribeChanges(ws, doc.id, r.data.editDocument.version);
      // Give the subscription time to start (or fail) before anything else makes the instance catch up.
      await new Promise((res) => setTimeout(res, 500));
      expect(sub.errors).toEqual([]);
      const more = await edit(deaf.url, token, { documentId: doc.id, agent: doc.agent, seq: 11, parents: r.data.editDocument.version, ops: [{ insert: { pos: 11, text: '?' } }] });
      expect(more.errors).toBeUndefined();
      await sub.until(() => replay('0123456789!', sub.events) === '0123456789!?' || sub.done);
      expect(sub.errors).toEqual([]);
      expect(replay('0123456789!', sub.events)).toBe('0123456789!?');
      sub.dispose();
      await ws.dispose();
    } finally {
      await deaf.stop();
    }
  });

  it('one version is the same JSON on either instance and on an instance that loads the document afresh', async () => {
    const { secret: token } = await newApiKey(a.url, (await newUser(a.url)).token);
    const doc = await newDocument(a.url, token, '');
    const onB = await join(b.url, token, doc.id);
    // Concurrent edits, one on each instance: each replica merges its own first, the other's later.
    const sent = await Promise.all(
      ([[a, doc.agent, 'a'], [b, onB.agent, 'b']] as const).map(([s, agent, text]) => edit(s.url, token, { documentId: doc.id, agent, seq: 0, parents: [], ops: [{ insert: { pos: 0, text } }] })),
    );
    for (const r of sent) expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    const both = async (s: TestServer) => {
      let c = await content(s.url, token, doc.id);
      for (let i = 0; i < 50 && c.version.length < 2; i++) {
        await new Promise((r) => setTimeout(r, 100));
        c = await content(s.url, token, doc.id);
      }
      return c;
    };
    const [onA, onBoth] = [await both(a), await both(b)];
    expect(onA.version).toHaveLength(2);
    expect(onBoth.content).toBe(onA.content);
    expect(JSON.stringify(onBoth.version)).toBe(JSON.stringify(onA.version));
    // In the one order, by agent, whichever instance answers.
    expect(onA.version.map(([agent]) => agent)).toEqual([doc.agent, onB.agent].sort());
    // A third instance, started now, loads it from PostgreSQL (another merge order again): the same JSON.
    const fresh = await startServer(instances.db.url);
    try {
      expect(JSON.stringify((await content(fresh.url, token, doc.id)).version)).toBe(JSON.stringify(onA.version));
    } finally {
      await fresh.stop();
    }
  });

  it('an edit against a version just returned by the other instance is accepted (no false UNKNOWN_VERSION)', async () => {
    const { token } = await newUser(a.url);
    const doc = await newDocument(a.url, token, 'x');
    const onB = await join(b.url, token, doc.id); // b loads the document
    let parents: unknown = doc.version;
    for (let i = 0; i < 10; i++) {
      const ra = await edit(a.url, token, { documentId: doc.id, agent: doc.agent, seq: i, parents, ops: [{ insert: { pos: 0, text: 'a' } }] });
      expect(ra.errors).toBeUndefined();
      parents = ra.data.editDocument.version;
      // Straight away, on the other instance, with that version as parents.
      const rb = await edit(b.url, token, { documentId: doc.id, agent: onB.agent, seq: i, parents, ops: [{ insert: { pos: 0, text: 'b' } }] });
      expect(rb.errors, JSON.stringify(rb.errors)).toBeUndefined();
      parents = rb.data.editDocument.version;
    }
    // A learns of B's last edit a moment after B acknowledged it.
    let text = '';
    for (let i = 0; i < 50 && text !== 'ba'.repeat(10) + 'x'; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      text = (await content(a.url, token, doc.id)).content;
    }
    expect(text).toBe('ba'.repeat(10) + 'x');
  });
});
