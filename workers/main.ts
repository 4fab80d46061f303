import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { createPool, migrateDb } from '../src/db/client.js';
import { migrateWorker, startWorker } from './runner.js';

/** `npm run worker`: the job runner alone, against DATABASE_URL. */
const config = loadConfig();
const log = pino({ level: config.logLevel });
if (!config.databaseUrl) {
  log.fatal('npm run worker needs DATABASE_URL (the embedded database lives inside the server process)');
  process.exit(1);
}
const pool = createPool(config.databaseUrl, log, 6, `cowrite-worker-${randomUUID()}`);
await migrateDb(pool);
await migrateWorker(pool, log);
const runner = await startWorker(pool, log, { trashDays: config.trashRetentionDays, auditDays: config.auditRetentionDays });
log.info('worker running');
const stop = async () => {
  await runner.stop();
  await pool.end();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
