import { Logger as WorkerLogger, run, runMigrations, type Job, type Runner } from 'graphile-worker';
import { WorkerLeases } from './leases.js';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { JobObserver } from '../src/metrics/jobMetrics.js';
import { crontab, taskList, type Retention } from './index.js';

/** graphile-worker's logger, writing through pino. */
function workerLogger(log: Logger): WorkerLogger {
  return new WorkerLogger(() => (level, message, meta) => {
    const l = level === 'error' ? 'error' : level === 'warning' ? 'warn' : level === 'debug' ? 'debug' : 'info';
    log[l]({ worker: true, ...(meta as object) }, message);
  });
}

/** Creates graphile-worker's schema (so jobs can be queued even where no worker runs here). */
export async function migrateWorker(pool: pg.Pool, log: Logger): Promise<void> {
  await runMigrations({ pgPool: pool, logger: workerLogger(log) });
}

export interface WorkerRunner {
  stop(): Promise<void>;
  /** The size of the engine memory of the runner's own thread, when it has one. */
  engineMemory?(): Promise<number>;
}

/**
 * Starts the job runner on its own pool (at least concurrency + 3 connections: one per worker, one
 * for LISTEN, one held for the lease), telling `observer` of each attempt at a job. Stop it before
 * the pool and before PostgreSQL.
 */
export async function startWorker(pool: pg.Pool, log: Logger, retention: Retention, observer?: JobObserver, concurrency = 2): Promise<WorkerRunner> {
  const leases = await WorkerLeases.start(pool, log);
  if (observer) observe(leases.events, observer);
  let runner: Runner;
  try {
    runner = await run({ pgPool: pool, taskList, crontab: crontab(retention), concurrency, noHandleSignals: true, pollInterval: 1_000, logger: workerLogger(log), events: leases.events });
  } catch (err) {
    await leases.stop();
    throw err;
  }
  return {
    async stop() {
      await runner.stop();
      await leases.stop();
    },
  };
}

/** Times each attempt at a job, from graphile-worker's events, and tells the observer how it ended. */
function observe(events: WorkerLeases['events'], observer: JobObserver): void {
  const started = new Map<string, number>();
  const ended = (job: Job, ok: boolean) => {
    const t0 = started.get(job.id);
    started.delete(job.id);
    const seconds = t0 === undefined ? 0 : (performance.now() - t0) / 1000;
    observer.jobAttempted(job.task_identifier, ok, seconds, !ok && job.attempts >= job.max_attempts);
  };
  events.on('job:start', ({ job }) => void started.set(job.id, performance.now()));
  events.on('job:success', ({ job }) => ended(job, true));
  events.on('job:error', ({ job }) => ended(job, false));
}
