import { describe, expect, it } from 'vitest';
import { content, edit, newDocument, newUser, replay, subscribeChanges, wsClient } from '../helpers/client.js';
import { useServer } from '../helpers/fixture.js';
import { crashFeedThread, loseReplica } from '../helpers/server.js';

const env = useServer({ collab: { idleMs: 300 } } as never);

describe('live documents recover and unload', () => {
  it('a lost replica is dropped and rebuilt from storage; other documents and subscribers carry on', async () => {
    const { token } = await newUser(env.url);
    const hurt = await newDocument(env.url, token, 'hurt');
    const fine = await newDocument(env.url, token, 'fine');
    const ws = wsClient(env.wsUrl, token);
    const sub = subscribeChanges(ws, hurt.id, []);
    await sub.until(() => sub.events.length > 0);
    const first = await edit(env.url, token, { documentId: hurt.id, agent: hurt.agent, seq: 0, parents: hurt.version, ops: [{ insert: { pos: 4, text: '!' } }] });
    expect(first.errors).toBeUndefined();

    // The engine instance behind this document is gone, as after a WASM trap.
    loseReplica(env.server, hurt.id);

    const during = await edit(env.url, token, { documentId: hurt.id, agent: hurt.agent, seq: 1, parents: first.data.editDocument.version, ops: [{ insert: { pos: 5, text: '?' } }] });
    expect(during.errors?.[0]?.extensions?.code).toBe('UNAVAILABLE');
    // Other documents are untouched.
    const other = await edit(env.url, token, { documentId: fine.id, agent: fine.agent, seq: 0, parents: fine.version, ops: [{ insert: { pos: 4, text: '.' } }] });
    expect(other.errors).toBeUndefined();
    // The retry lands on a replica rebuilt from PostgreSQL, with everything acknowledged before.
    const retry = await edit(env.url, token, { documentId: hurt.id, agent: hurt.agent, seq: 1, parents: first.data.editDocument.version, ops: [{ insert: { pos: 5, text: '?' } }] });
    expect(retry.errors).toBeUndefined();
    expect((await content(env.url, token, hurt.id)).content).toBe('hurt!?');
    expect((await content(env.url, token, fine.id)).content).toBe('fine.');
    // The subscriber was moved to the new replica without a gap.
    await sub.until(() => replay('', sub.events) === 'hurt!?');
    sub.dispose();
    await ws.dispose();
  });

  it('when the change-feed thread dies, a new one starts and subscribers carry on without a gap', async () => {
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, 'feed');
    const ws = wsClient(env.wsUrl, token);
    const sub = subscribeChanges(ws, doc.id, []);
    await sub.until(() => sub.events.length > 0);
    const first = await edit(env.url, token, { documentId: doc.id, agent: doc.agent, seq: 0, parents: doc.version, ops: [{ insert: { pos: 4, text: '1' } }] });
    await sub.until(() => replay('', sub.events) === 'feed1');

    // The thread goes away, as after a crash.
    await crashFeedThread(env.server);

    let parents = first.data.editDocument.version;
    for (let i = 1; i <= 3; i++) {
      let r = await edit(env.url, token, { documentId: doc.id, agent: doc.agent, seq: i, parents, ops: [{ insert: { pos: 4 + i, text: String(i + 1) } }] });
      // An edit caught by the reload is refused as UNAVAILABLE and simply retried.
      for (let t = 0; t < 20 && r.errors?.[0]?.extensions?.code === 'UNAVAILABLE'; t++) {
        await new Promise((res) => setTimeout(res, 50));
        r = await edit(env.url, token, { documentId: doc.id, agent: doc.agent, seq: i, parents, ops: [{ insert: { pos: 4 + i, text: String(i + 1) } }] });
      }
      expect(r.errors).toBeUndefined();
      parents = r.data.editDocument.version;
    }
    await sub.until(() => replay('', sub.events) === 'feed1234');
    expect((await content(env.url, token, doc.id)).content).toBe('feed1234');
    sub.dispose();
    await ws.dispose();
  });

  it('an idle document without subscribers is unloaded, and loads again with everything in it', async () => {
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, 'idle');
    const r = await edit(env.url, token, { documentId: doc.id, agent: doc.agent, seq: 0, parents: doc.version, ops: [{ delete: { pos: 0, len: 1 } }] });
    expect(r.errors).toBeUndefined();
    expect(env.server.app.services.documents.peek(doc.id)).toBeDefined();
    for (let i = 0; i < 40 && env.server.app.services.documents.peek(doc.id); i++) await new Promise((res) => setTimeout(res, 100));
    expect(env.server.app.services.documents.peek(doc.id)).toBeUndefined();
    expect((await content(env.url, token, doc.id)).content).toBe('dle');
  });
});
