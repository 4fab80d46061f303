import { afterAll, beforeAll } from 'vitest';
import { freshDatabase } from './db.js';
import { startServer, type TestServer } from './server.js';

/**
 * A fresh database and a server on it for a whole test file, stopped and dropped afterwards.
 * Read its parts inside tests (they exist once beforeAll has run).
 */
export function useServer(overrides: Parameters<typeof startServer>[1] = {}) {
  let db: Awaited<ReturnType<typeof freshDatabase>> | undefined;
  let server: TestServer | undefined;
  beforeAll(async () => {
    db = await freshDatabase();
    server = await startServer(db.url, overrides);
  });
  afterAll(async () => {
    await server?.stop();
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
  };
}
