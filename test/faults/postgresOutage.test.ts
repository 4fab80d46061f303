import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { codeOf, content, edit, newDocument, newUser, replay, subscribeChanges, wsClient } from '../helpers/client.js';
import { freePort } from '../helpers/net.js';
import { startServer, type TestServer } from '../helpers/server.js';

/** A PostgreSQL of this test's own (embedded, on a free port), so stopping it disturbs nothing else. */
const dir = mkdtempSync(path.join(tmpdir(), 'cowrite-pg-outage-'));
chmodSync(dir, 0o755); // the embedded PostgreSQL runs as the postgres user
let pgPort = 0;
let pg: EmbeddedDatabase | null = null;
let server: TestServer | null = null;
const log = pino({ level: 'silent' });

afterAll(async () => {
  await server?.stop();
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function readyz(url: string) {
  const r = await fetch(url.replace('/graphql', '/readyz'));
  return { status: r.status, body: (await r.json()) as { status: string } };
}

describe('a PostgreSQL outage', () => {
  it('fails edits fast with UNAVAILABLE, keeps resident documents readable and live, and recovers by itself', async () => {
    pgPort = await freePort();
    pg = await startEmbeddedPostgres(dir, pgPort, log);
    // The worker runs in-process too: its connections fail with the rest and must not take the process down.
    server = await startServer(pg.url, { runWorker: true });
    const { url, wsUrl } = server;
    const { token } = await newUser(url);
    const doc = await newDocument(url, token, 'abc');
    const ws = wsClient(wsUrl, token);
    const sub = subscribeChanges(ws, doc.id, []);
    await sub.until(() => replay('', sub.events) === 'abc');
    const r0 = await edit(url, token, { documentId: doc.id, agent: doc.agent, seq: 0, parents: doc.version, ops: [{ insert: { pos: 3, text: 'd' } }] });
    expect(r0.errors).toBeUndefined();
    const acked = r0.data.editDocument.version;

    await pg.stop();
    pg = null;

    // No false acknowledgement: the edit is refused with a retryable code.
    const failed = await edit(url, token, { documentId: doc.id, agent: doc.agent, seq: 1, parents: acked, ops: [{ insert: { pos: 4, text: 'e' } }] });
    expect(codeOf(failed)).toBe('UNAVAILABLE');
    // And the next ones fail fast too, without queueing behind the outage.
    const again = await edit(url, token, { documentId: doc.id, agent: doc.agent, seq: 1, parents: acked, ops: [{ insert: { pos: 4, text: 'e' } }] });
    expect(codeOf(again)).toBe('UNAVAILABLE');
    // Readers of the resident document keep working, at the last acknowledged version.
    await new Promise((r) => setTimeout(r, 5_500)); // past the session cache: authentication must survive too
    expect(await content(url, token, doc.id)).toMatchObject({ content: 'abcd', version: acked });
    // A new subscription to it works, from the start.
    const late = wsClient(wsUrl, token);
    const lateSub = subscribeChanges(late, doc.id, []);
    await lateSub.until(() => replay('', lateSub.events) === 'abcd');
    expect((await readyz(url)).status).toBe(503);

    pg = await startEmbeddedPostgres(dir, pgPort, log);

    // Recovers without a restart: the same edit (same agent and seq), retried, now commits.
    let retried = failed;
    for (let i = 0; i < 100 && codeOf(retried) === 'UNAVAILABLE'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      retried = await edit(url, token, { documentId: doc.id, agent: doc.agent, seq: 1, parents: acked, ops: [{ insert: { pos: 4, text: 'e' } }] });
    }
    expect(retried.errors).toBeUndefined();
    expect((await content(url, token, doc.id)).content).toBe('abcde');
    // Both subscriptions, the old one and the one opened during the outage, stay gap-free logs.
    await sub.until(() => replay('', sub.events) === 'abcde');
    await lateSub.until(() => replay('', lateSub.events) === 'abcde');
    expect(sub.errors).toEqual([]);
    expect(lateSub.errors).toEqual([]);
    expect((await readyz(url)).body.status).toBe('ready');
    // New documents work again.
    const other = await newDocument(url, token, 'fresh');
    expect((await content(url, token, other.id)).content).toBe('fresh');
    sub.dispose();
    lateSub.dispose();
    await ws.dispose();
    await late.dispose();
  });
});
