import path from 'node:path';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import type { Logger } from 'pino';
import { appRoot } from '../appRoot.js';
import * as schema from './schema.js';

export type Db = NodePgDatabase<typeof schema>;

const MIGRATIONS = path.join(appRoot(), 'drizzle');

/** A pg pool whose idle-client errors (a restarted server, a killed connection) are logged, not fatal. */
export function createPool(url: string, log: Logger, max = 10, applicationName = 'cowrite'): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5_000, application_name: applicationName });
  pool.on('error', (err) => log.warn({ err: err.message }, 'idle PostgreSQL client failed'));
  // A connection that dies while checked out must not crash the process either.
  pool.on('connect', (client) => client.on('error', (err) => log.warn({ err: err.message }, 'PostgreSQL connection failed')));
  return pool;
}

export function createDb(pool: pg.Pool): Db {
  return drizzle(pool, { schema });
}

/** Applies the migrations in drizzle/ (idempotent; serialised across instances by an advisory lock). */
export async function migrateDb(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    // Several instances may start at once: one migrates, the others wait for it.
    await client.query('SELECT pg_advisory_lock(727001)');
    await migrate(drizzle(client), { migrationsFolder: MIGRATIONS });
  } finally {
    await client.query('SELECT pg_advisory_unlock(727001)').catch(() => undefined);
    client.release();
  }
}
