import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { freshDatabase, quietPool } from './db.js';
import { REDIS_URL } from './env.js';
import { startServer, type TestServer } from './server.js';

/**
 * Limits for servers under property tests: every case opens its own sockets (the client closes its
 * connection when its last subscription ends), all from this one address, more than a minute allows.
 */
export const PROPERTY_LIMITS = { rateLimits: { connectionsPerIp: 1_000_000 } };

/**
 * A fresh database and a server on it for a whole test file, stopped and dropped afterwards.
 * Read its parts inside tests (they exist once beforeAll has run).
 */
export function useServer(overrides: Parameters<typeof startServer>[1] = {}, logTo?: Parameters<typeof startServer>[2]) {
  let db: Awaited<ReturnType<typeof freshDatabase>> | undefined;
  let server: TestServer | undefined;
  let pool: pg.Pool | undefined;
  beforeAll(async () => {
    db = await freshDatabase();
    server = await startServer(db.url, overrides, logTo);
  });
  afterAll(async () => {
    await server?.stop();
    await pool?.end();
    await db?.drop();
  });
  return {
    get server() {
      return server!;
    },
    get db() {
      return db!;
    },
    get url() {
      return server!.url;
    },
    get wsUrl() {
      return server!.wsUrl;
    },
    /** A pool on the server's database, for what a test reads or runs directly (jobs, rows). */
    get pool() {
      return (pool ??= quietPool(db!.url));
    },
  };
}

/** Two servers on one fresh database and the test Redis (several instances), for a whole test file. */
export function useTwoInstances(overrides: Parameters<typeof startServer>[1] = {}) {
  let db: Awaited<ReturnType<typeof freshDatabase>> | undefined;
  const servers: TestServer[] = [];
  beforeAll(async () => {
    db = await freshDatabase();
    for (let i = 0; i < 2; i++) servers.push(await startServer(db.url, { redisUrl: REDIS_URL, ...overrides }));
  });
  afterAll(async () => {
    for (const s of servers) await s.stop();
    await db?.drop();
  });
  return {
    get a() {
      return servers[0]!;
    },
    get b() {
      return servers[1]!;
    },
    get db() {
      return db!;
    },
  };
}
