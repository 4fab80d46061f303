import { afterAll, describe, expect, it } from 'vitest';
import { content, edit, join, newDocument, newUser, replay, subscribeChanges, wsClient } from '../helpers/client.js';
import { freshDatabase } from '../helpers/db.js';
import { freePort } from '../helpers/net.js';
import { killServer, startServerProcess, type ServerProcess } from '../helpers/process.js';

const running: ServerProcess[] = [];
afterAll(async () => {
  for (const s of running) await killServer(s);
});

interface Pending {
  agent: string;
  seq: number;
  parents: unknown;
  marker: string;
}

/** Occurrences of `needle` in `text`. */
const count = (text: string, needle: string) => text.split(needle).length - 1;

describe('kill -9 of a server during a burst of edits', () => {
  it('keeps every acknowledged edit exactly once, and clients retrying their unacknowledged edits end with identical text', async () => {
    const db = await freshDatabase();
    const port = await freePort();
    const env = { DATABASE_URL: db.url };
    const first = await startServerProcess(port, env);
    running.push(first);
    const { token } = await newUser(first.url);
    const doc = await newDocument(first.url, token, '');
    const clients = await Promise.all(Array.from({ length: 8 }, async () => ({ ...(await join(first.url, token, doc.id)), acked: [] as string[], pending: null as Pending | null })));

    // Each client inserts unique markers at the start, each against the version its last reply returned.
    let stop = false;
    const bursts = clients.map(async (c, ci) => {
      let parents: unknown = c.version;
      let seq = 0;
      for (let k = 0; !stop; k++) {
        const marker = `<${ci}.${k}>`;
        c.pending = { agent: c.agent, seq, parents, marker };
        let r;
        try {
          r = await edit(first.url, token, { documentId: doc.id, agent: c.agent, seq, parents, ops: [{ insert: { pos: 0, text: marker } }] });
        } catch {
          return; // the server died with this edit in flight: it stays pending
        }
        if (r.errors) return;
        c.acked.push(marker);
        c.pending = null;
        parents = r.data.editDocument.version;
        seq += marker.length;
      }
    });
    await new Promise((r) => setTimeout(r, 1_500));
    await killServer(first);
    stop = true;
    await Promise.all(bursts);
    const acked = clients.flatMap((c) => c.acked);
    expect(acked.length).toBeGreaterThan(50);

    const second = await startServerProcess(port, env);
    running.push(second);
    const after = (await content(second.url, token, doc.id)).content;
    for (const m of acked) expect(count(after, m), m).toBe(1);
    // An edit in flight at the kill is there at most once (it may have committed without its reply).
    for (const c of clients) if (c.pending) expect(count(after, c.pending.marker)).toBeLessThanOrEqual(1);

    // Every client retries its unacknowledged edit as it was (same agent, seq, parents and ops).
    for (const c of clients) {
      const p = c.pending;
      if (!p) continue;
      const r = await edit(second.url, token, { documentId: doc.id, agent: p.agent, seq: p.seq, parents: p.parents, ops: [{ insert: { pos: 0, text: p.marker } }] });
      expect(r.errors).toBeUndefined();
    }
    const final = (await content(second.url, token, doc.id)).content;
    const all = [...acked, ...clients.flatMap((c) => (c.pending ? [c.pending.marker] : []))];
    for (const m of all) expect(count(final, m), m).toBe(1);
    expect(final.length).toBe(all.reduce((n, m) => n + m.length, 0));
    // A second retry changes nothing (exactly once), and every client, rebuilding the text from the
    // restarted server's change log, ends with that same text.
    for (const c of clients) {
      const p = c.pending;
      if (!p) continue;
      await edit(second.url, token, { documentId: doc.id, agent: p.agent, seq: p.seq, parents: p.parents, ops: [{ insert: { pos: 0, text: p.marker } }] });
    }
    expect((await content(second.url, token, doc.id)).content).toBe(final);
    const ws = wsClient(second.wsUrl, token);
    const streams = clients.map(() => subscribeChanges(ws, doc.id, []));
    for (const s of streams) await s.until(() => replay('', s.events) === final);
    for (const s of streams) s.dispose();
    await ws.dispose();
    await killServer(second, 'SIGTERM');
    await db.drop();
  });
});
