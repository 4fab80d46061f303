import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { ServerCloseCode } from '../../src/realtime/closeCodes.js';
import { codeOf, content, edit, join, newDocument, newUser, replay, subscribeChanges } from '../helpers/client.js';
import { freshDatabase } from '../helpers/db.js';
import { freePort } from '../helpers/net.js';
import { killServer, startServerProcess, type ServerProcess } from '../helpers/process.js';

const running: ServerProcess[] = [];
afterAll(async () => {
  for (const s of running) await killServer(s);
});

describe('SIGTERM', () => {
  it('finishes in-flight edits, tells subscribers to reconnect with a named close code, and exits in bounded time', async () => {
    const db = await freshDatabase();
    const port = await freePort();
    const env = { DATABASE_URL: db.url };
    const server = await startServerProcess(port, env);
    running.push(server);
    const { token } = await newUser(server.url);
    const doc = await newDocument(server.url, token, '.');

    let closeCode: number | undefined;
    const ws = createClient({
      url: server.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
      on: { closed: (e) => (closeCode = (e as { code: number }).code) },
    });
    const sub = subscribeChanges(ws, doc.id, []);
    await sub.until(() => sub.events.length > 0);

    const writers = await Promise.all(Array.from({ length: 6 }, () => join(server.url, token, doc.id)));
    const acked: string[] = [];
    const refused: string[] = [];
    let stop = false;
    const bursts = writers.map(async (w, wi) => {
      let parents: unknown = w.version;
      let seq = 0;
      for (let k = 0; !stop; k++) {
        const marker = `<${wi}.${k}>`;
        let r;
        try {
          r = await edit(server.url, token, { documentId: doc.id, agent: w.agent, seq, parents, ops: [{ insert: { pos: 0, text: marker } }] });
        } catch {
          return; // no longer listening
        }
        if (r.errors) {
          // Turned away once draining began: retryable, and never applied.
          expect(codeOf(r)).toBe('UNAVAILABLE');
          refused.push(marker);
          return;
        }
        acked.push(marker);
        parents = r.data.editDocument.version;
        seq += marker.length;
      }
    });
    await new Promise((r) => setTimeout(r, 1_000));
    server.proc.kill('SIGTERM');
    const code = await server.exited;
    stop = true;
    await Promise.all(bursts);

    // Bounded: main.ts exits with 1 when shutdown takes longer than its 15 s limit, so 0 means it finished within it.
    expect(code).toBe(0);
    await sub.until(() => sub.done);
    expect(closeCode).toBe(ServerCloseCode.ServiceRestart);
    expect(acked.length).toBeGreaterThan(20);

    // Everything acknowledged was committed (and streamed before the close); nothing refused was applied.
    const next = await startServerProcess(port, env);
    running.push(next);
    const text = (await content(next.url, token, doc.id)).content;
    for (const m of acked) expect(text.split(m).length - 1, m).toBe(1);
    for (const m of refused) expect(text.includes(m), m).toBe(false);
    expect(replay('', sub.events)).toBe(text);
    await killServer(next, 'SIGTERM');
    await db.drop();
  });
});
