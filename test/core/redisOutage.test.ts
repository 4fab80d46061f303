import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { content, edit, join, newDocument, newUser, replay, subscribeChanges, wsClient } from '../helpers/client.js';
import { freshDatabase } from '../helpers/db.js';
import { freePort } from '../helpers/net.js';
import { startServer } from '../helpers/server.js';


/** A Redis of this test's own, so stopping it disturbs nothing else. */
async function startRedis(port: number): Promise<ChildProcess> {
  const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(true)); // port taken: redis is listening
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
    });
    if (up) return p;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('redis did not start');
}

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

describe('a Redis outage between two instances', () => {
  it('loses nothing: edits committed while Redis is down reach the other instance\'s subscribers from PostgreSQL', async () => {
    const port = await freePort();
    let redis = await startRedis(port);
    children.push(redis);
    const redisUrl = `redis://127.0.0.1:${port}`;
    const db = await freshDatabase();
    const a = await startServer(db.url, { redisUrl });
    const b = await startServer(db.url, { redisUrl });
    try {
      const { token } = await newUser(a.url);
      const doc = await newDocument(a.url, token, 'start');
      const onB = await join(b.url, token, doc.id);
      const ws = wsClient(b.wsUrl, token);
      const sub = subscribeChanges(ws, doc.id, []);
      await sub.until(() => replay('', sub.events) === 'start');

      redis.kill('SIGKILL');
      await new Promise((r) => redis.once('exit', r));
      let parents: unknown = doc.version;
      for (let i = 0; i < 5; i++) {
        const r = await edit(a.url, token, { documentId: doc.id, agent: doc.agent, seq: i, parents, ops: [{ insert: { pos: 5 + i, text: String(i) } }] });
        expect(r.errors).toBeUndefined();
        parents = r.data.editDocument.version;
      }
      // Degraded, not down: the instance still takes edits, so it stays in rotation.
      const ready = await fetch(a.url.replace('/graphql', '/readyz'));
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'degraded', postgres: true, pubsub: false });
      // Still down: B's subscriber catches up from PostgreSQL.
      await sub.until(() => replay('', sub.events) === 'start01234', 10_000);
      // And B accepts an edit against A's latest version.
      const rb = await edit(b.url, token, { documentId: doc.id, agent: onB.agent, seq: 0, parents, ops: [{ insert: { pos: 0, text: '>' } }] });
      expect(rb.errors).toBeUndefined();

      redis = await startRedis(port);
      children.push(redis);
      await new Promise((r) => setTimeout(r, 1500));
      const r = await edit(a.url, token, { documentId: doc.id, agent: doc.agent, seq: 5, parents, ops: [{ insert: { pos: 10, text: '!' } }] });
      expect(r.errors).toBeUndefined();
      const expected = '>start01234!';
      // Both instances converge on every committed edit (A learns of B's from PostgreSQL).
      for (const s of [a, b]) {
        let text = '';
        for (let i = 0; i < 50 && text !== expected; i++) {
          text = (await content(s.url, token, doc.id)).content;
          if (text !== expected) await new Promise((res) => setTimeout(res, 100));
        }
        expect(text).toBe(expected);
      }
      await sub.until(() => replay('', sub.events) === expected, 10_000);
      expect(await (await fetch(a.url.replace('/graphql', '/readyz'))).json()).toMatchObject({ status: 'ready', pubsub: true });
      sub.dispose();
      await ws.dispose();
    } finally {
      await a.stop();
      await b.stop();
      await db.drop();
    }
  });
});
