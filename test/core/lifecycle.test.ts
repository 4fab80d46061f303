import { connect } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { edit, newDocument, newUser, subscribeChanges, wsClient } from '../helpers/client.js';
import { freshDatabase } from '../helpers/db.js';
import { REDIS_URL } from '../helpers/env.js';
import { startServer } from '../helpers/server.js';

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });

describe('start and stop', () => {
  it('stop() leaves nothing running: no listener, no sockets, no PostgreSQL or Redis connections, no worker', async () => {
    const db = await freshDatabase();
    const server = await startServer(db.url, { redisUrl: REDIS_URL, runWorker: true });
    const id = server.app.instanceId;
    const { token } = await newUser(server.url);
    const doc = await newDocument(server.url, token, 'x');
    const ws = wsClient(server.wsUrl, token);
    const sub = subscribeChanges(ws, doc.id, []);
    await sub.until(() => sub.events.length > 0);
    await edit(server.url, token, { documentId: doc.id, agent: doc.agent, seq: 0, parents: doc.version, ops: [{ insert: { pos: 1, text: 'y' } }] });

    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    const ours = async () =>
      Number((await admin.query(`SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE $1`, [`%${id}`])).rows[0].count);
    const redis = new Redis(REDIS_URL);
    const redisClients = async () => ((await redis.client('LIST')) as string).split('\n').filter((l) => l.includes(id)).length;
    expect(await ours()).toBeGreaterThan(0);
    expect(await redisClients()).toBe(4); // pub/sub publisher and subscriber, presence store, sessions and rate limits

    await server.stop();

    expect(await refused(server.port)).toBe(true);
    await sub.until(() => sub.done);
    // A closed connection's backend leaves pg_stat_activity a moment later.
    for (let i = 0; i < 40 && (await ours()) > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await ours()).toBe(0);
    expect(await redisClients()).toBe(0);
    await ws.dispose();
    redis.disconnect();
    await admin.end();
    await db.drop();
  });
});
