import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { engineMemoryBytes } from '../src/crdt/engine.js';
import { createPool } from '../src/db/client.js';
import { startWorker, type WorkerRunner } from './runner.js';
import type { FromWorkerThread, ToWorkerThread, WorkerThreadData } from './threadProtocol.js';

/**
 * The job runner on a thread of the server process (RUN_WORKER=true): tasks that run the CRDT engine
 * over a whole history (snapshots, compaction, automatic versions) use this thread's event loop and
 * engine instance, never the one that answers edits. Logs go to the server's logger.
 */
const port = parentPort!;
const data = workerData as WorkerThreadData;
const post = (m: FromWorkerThread) => port.postMessage(m);
const log = pino({ level: data.logLevel }, { write: (line: string) => post({ t: 'log', line }) });
const pool = createPool(data.databaseUrl, log, data.poolSize, data.applicationName);
let runner: WorkerRunner | null = null;

port.on('message', (m: ToWorkerThread) => {
  if (m.t === 'engineMemory') return post({ t: 'engineMemory', id: m.id, bytes: engineMemoryBytes() });
  void (async () => {
    await runner?.stop().catch((err) => log.warn({ err }, 'worker stop'));
    await pool.end().catch(() => undefined);
    post({ t: 'stopped' });
  })();
});

try {
  runner = await startWorker(pool, log, data.retention, { jobAttempted: (task, ok, seconds, gaveUp) => post({ t: 'job', task, ok, seconds, gaveUp }) });
  post({ t: 'started' });
} catch (err) {
  await pool.end().catch(() => undefined);
  post({ t: 'failed', message: String((err as Error)?.message ?? err) });
}
