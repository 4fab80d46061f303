import { pino } from 'pino';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';

const config = loadConfig();
const log = pino({ level: config.logLevel });
const app = buildApp(config, log);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  const timer = setTimeout(() => {
    log.error('shutdown took too long; exiting');
    process.exit(1);
  }, 15_000);
  timer.unref();
  await app.stop();
  process.exit(0);
}
// A stray rejection is a bug to log, not a reason to drop every document and connection.
process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

app.start().catch(async (err) => {
  log.fatal({ err }, 'failed to start');
  await app.stop().catch(() => undefined);
  process.exit(1);
});
