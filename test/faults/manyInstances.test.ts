import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { content, edit, join, newDocument, newUser, replay, subscribeChanges, wsClient, type Change } from '../helpers/client.js';
import { freshDatabase } from '../helpers/db.js';
import { REDIS_URL } from '../helpers/env.js';
import { startServer, type TestServer } from '../helpers/server.js';

let db: Awaited<ReturnType<typeof freshDatabase>>;
const servers: TestServer[] = [];

beforeAll(async () => {
  db = await freshDatabase();
  for (let i = 0; i < 3; i++) servers.push(await startServer(db.url, { redisUrl: REDIS_URL }));
});
afterAll(async () => {
  for (const s of servers) await s.stop();
  await db?.drop();
});

/** A version as a comparable string (its pairs' order depends on the instance that produced it). */
const key = (v: unknown) => JSON.stringify([...((v as [string, number][] | undefined) ?? [])].sort());

const pick = (i: number) => servers[i % servers.length]!;

describe('three instances, no sticky routing', () => {
  it('writers on all three, each request to any instance, subscribers reconnecting elsewhere: every replica and every stream agree', async () => {
    const { token } = await newUser(pick(0).url);
    const doc = await newDocument(pick(0).url, token, '');

    // Subscribers that hop: after every few events each reconnects to the next instance, resuming
    // from the last version it received.
    let writing = true;
    const hop = async (events: Change[], at: number, done: (last: unknown) => boolean) => {
      const ws = wsClient(pick(at).wsUrl, token);
      const sub = subscribeChanges(ws, doc.id, events.at(-1)?.version ?? []);
      await sub.until(() => sub.events.length >= 5 || done((sub.events.at(-1) ?? events.at(-1))?.version), 30_000);
      expect(sub.errors).toEqual([]);
      events.push(...sub.events);
      sub.dispose();
      await ws.dispose();
    };
    const subscribers = [0, 1, 2].map(async (start) => {
      const events: Change[] = [];
      for (let at = start; writing; at++) await hop(events, at, () => !writing);
      return events;
    });

    // Six writers; every edit goes to a different instance than the one before, with the version
    // the previous reply returned (which that instance may not have seen yet).
    const writers = await Promise.all([0, 1, 2, 3, 4, 5].map(async (i) => ({ i, ...(await join(pick(i).url, token, doc.id)) })));
    await Promise.all(
      writers.map(async (w) => {
        let parents: unknown = w.version;
        let seq = 0;
        for (let k = 0; k < 30; k++) {
          const text = `${w.i}${k % 10}`;
          const r = await edit(pick(w.i + k).url, token, { documentId: doc.id, agent: w.agent, seq, parents, ops: [{ insert: { pos: 0, text } }] });
          expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
          parents = r.data.editDocument.version;
          seq += 2;
        }
      }),
    );
    writing = false;

    // Every instance converges on the same text and version. (An instance learns of another's edits
    // a moment after they were acknowledged there, so each is read until it has all 360 characters.)
    const texts: Awaited<ReturnType<typeof content>>[] = [];
    for (const s of servers) {
      let c = await content(s.url, token, doc.id);
      for (let i = 0; i < 100 && Array.from(c.content).length < 6 * 30 * 2; i++) {
        await new Promise((r) => setTimeout(r, 100));
        c = await content(s.url, token, doc.id);
      }
      texts.push(c);
    }
    const expected = texts[0]!;
    expect(Array.from(expected.content).length).toBe(6 * 30 * 2);
    for (const t of texts) {
      expect(t.content).toBe(expected.content);
      expect(key(t.version)).toBe(key(expected.version));
    }
    // Every subscriber, stitched across its hops (and one last hop to catch up), is a valid log.
    const final = key(expected.version);
    for (const [i, events] of (await Promise.all(subscribers)).entries()) {
      while (key(events.at(-1)?.version) !== final) await hop(events, i + 1, (last) => key(last) === final);
      expect(replay('', events)).toBe(expected.content);
    }
  });
});
