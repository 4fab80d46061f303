import { afterAll, describe, expect, it } from 'vitest';
import { gql, join, newDocument, newUser, subscribePresence, UPDATE_PRESENCE, wsClient } from '../helpers/client.js';
import { freshDatabase } from '../helpers/db.js';
import { REDIS_URL } from '../helpers/env.js';
import { freePort } from '../helpers/net.js';
import { killServer, startServerProcess, type ServerProcess } from '../helpers/process.js';

const running: ServerProcess[] = [];
afterAll(async () => {
  for (const s of running) await killServer(s);
});

describe('presence across instances', () => {
  it('a participant on one instance is seen on another (also by late watchers), and leaves there when its instance is killed', async () => {
    const db = await freshDatabase();
    const env = { DATABASE_URL: db.url, REDIS_URL, PRESENCE_TTL_MS: '2000' };
    const a = await startServerProcess(await freePort(), env);
    const b = await startServerProcess(await freePort(), env);
    running.push(a, b);
    const { token } = await newUser(a.url);
    const doc = await newDocument(a.url, token, 'hello world');
    const two = await join(a.url, token, doc.id);

    const wsB = wsClient(b.wsUrl, token);
    const early = subscribePresence(wsB, doc.id);
    await early.until(() => early.events.length > 0);
    const wsA = wsClient(a.wsUrl, token);
    const held = subscribePresence(wsA, doc.id, two.agent);
    await held.until(() => held.present.has(two.agent), 20_000).catch((err) => {
      throw new Error(`${(err as Error).message}\ninstance A said:\n${a.output().slice(-3000)}`);
    });
    const r = await gql(a.url, UPDATE_PRESENCE, { d: doc.id, agent: two.agent, cursor: { anchor: 6, head: 6 } }, token);
    expect(r.errors).toBeUndefined();
    await early.until(() => early.present.get(two.agent)?.cursor?.anchor === 6);

    // A watcher arriving on B later finds the participant in its first event (from Redis).
    const late = subscribePresence(wsB, doc.id);
    await late.until(() => late.events.length > 0);
    expect(late.events[0]!.participants.map((p) => p.agent)).toContain(two.agent);

    // A participant whose socket on A closes leaves on B too.
    const three = await join(a.url, token, doc.id);
    const wsThree = wsClient(a.wsUrl, token);
    const threeHeld = subscribePresence(wsThree, doc.id, three.agent);
    await early.until(() => early.present.has(three.agent));
    await wsThree.dispose();
    await early.until(() => !early.present.has(three.agent), 5_000);
    threeHeld.dispose();

    // Still there after several TTLs: A renews what its subscription holds.
    await new Promise((r) => setTimeout(r, 4_500));
    expect(early.present.has(two.agent)).toBe(true);

    await killServer(a);
    // No leave message from a killed instance: B lets the participant go after the TTL.
    await early.until(() => !early.present.has(two.agent), 6_000);
    await late.until(() => !late.present.has(two.agent), 6_000);
    early.dispose();
    late.dispose();
    await wsB.dispose();
    await killServer(b, 'SIGTERM');
    await db.drop();
  });
});
