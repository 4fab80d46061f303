import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { content, edit, newDocument, newUser } from '../helpers/client.js';
import { freshDatabase } from '../helpers/db.js';
import { freePort } from '../helpers/net.js';
import { killServer, spawnServer, waitReady } from '../helpers/process.js';
import { startServer } from '../helpers/server.js';

function isAlive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('restarts lose nothing acknowledged', () => {
  it('a second server on the same PostgreSQL serves every acknowledged edit of the first', async () => {
    const db = await freshDatabase();
    const first = await startServer(db.url);
    const { token } = await newUser(first.url);
    const doc = await newDocument(first.url, token, 'before');
    const r = await edit(first.url, token, { documentId: doc.id, agent: doc.agent, seq: 0, parents: doc.version, ops: [{ insert: { pos: 6, text: ' and after' } }] });
    expect(r.errors).toBeUndefined();
    await first.stop();
    const second = await startServer(db.url);
    expect((await content(second.url, token, doc.id)).content).toBe('before and after');
    await second.stop();
    await db.drop();
  });

  it('kill -9 of the embedded-default server, then a restart: every acknowledged edit is there, the orphaned PostgreSQL is handled', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'cowrite-restart-'));
    chmodSync(dataDir, 0o755); // the embedded PostgreSQL runs as the postgres user
    dirs.push(dataDir);
    const [port, pgPort] = [await freePort(), await freePort()];
    const env = { DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(pgPort) };
    const url = `http://127.0.0.1:${port}/graphql`;

    const one = spawnServer(port, env);
    await waitReady(port);
    const { token } = await newUser(url);
    const doc = await newDocument(url, token, '');
    let parents: unknown = doc.version;
    for (let i = 0; i < 30; i++) {
      const r = await edit(url, token, { documentId: doc.id, agent: doc.agent, seq: i, parents, ops: [{ insert: { pos: i, text: String(i % 10) } }] });
      expect(r.errors).toBeUndefined();
      parents = r.data.editDocument.version;
    }
    await killServer(one);
    const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
    expect(existsSync(pidFile)).toBe(true);
    const orphan = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);

    const two = spawnServer(port, env);
    try {
      await waitReady(port);
      const c = await content(url, token, doc.id);
      expect(c.content).toBe('012345678901234567890123456789');
      expect(c.version).toEqual(parents);
    } finally {
      await killServer(two, 'SIGTERM');
    }
    expect(isAlive(orphan)).toBe(false);
    // A clean stop also stops the embedded PostgreSQL.
    expect(existsSync(pidFile)).toBe(false);
  });
});
