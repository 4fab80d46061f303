import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { createPool, migrateDb } from '../src/db/client.js';
import { startMetricsServer } from '../src/metrics/metricsServer.js';
import { WorkerMetrics } from '../src/metrics/workerMetrics.js';
import { migrateWorker, startWorker } from './runner.js';

/** `npm run worker`: the job runner alone, against DATABASE_URL; its metrics on METRICS_PORT when set. */
const config = loadConfig();
const log = pino({ level: config.logLevel });
if (!config.databaseUrl) {
  log.fatal('npm run worker needs DATABASE_URL (the embedded database lives inside the server process)');
  process.exit(1);
}
const metrics = config.metrics && config.metricsPort !== undefined ? new WorkerMetrics() : undefined;
const pool = createPool(config.databaseUrl, log, 6, `cowrite-worker-${randomUUID()}`);
await migrateDb(pool);
await migrateWorker(pool, log);
const runner = await startWorker(pool, log, { trashDays: config.trashRetentionDays, auditDays: config.auditRetentionDays }, metrics);
const metricsServer = metrics ? await startMetricsServer(metrics.registry, config.metricsHost ?? config.host, config.metricsPort!, log) : null;
log.info('worker running');
const stop = async () => {
  await metricsServer?.stop();
  await runner.stop();
  await pool.end();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
