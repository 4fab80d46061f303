import { Counter, Histogram, type Registry } from 'prom-client';

/** Told of each attempt at a job the runner makes (workers/runner.ts). */
export interface JobObserver {
  /** An attempt ended: `ok` when the task returned, else it threw (and `gaveUp` when no attempts are left). */
  jobAttempted(task: string, ok: boolean, seconds: number, gaveUp: boolean): void;
}

/**
 * The job runner's metrics, on the server's registry (jobs on its thread) or on the standalone
 * worker's (`npm run worker`): attempts by task and result, their durations, and jobs given up on.
 */
export class JobMetrics implements JobObserver {
  private readonly attempts: Counter<'task' | 'result'>;
  private readonly seconds: Histogram<'task'>;
  private readonly failed: Counter<'task'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.attempts = new Counter({
      name: 'cowrite_job_attempts_total',
      help: 'Attempts at background jobs (snapshots, compaction, automatic versions, cleanup, analytics), by task and result: success, or error (retried later with backoff).',
      labelNames: ['task', 'result'],
      registers,
    });
    this.seconds = new Histogram({
      name: 'cowrite_job_duration_seconds',
      help: 'Time an attempt at a job took, by task.',
      labelNames: ['task'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.failed = new Counter({
      name: 'cowrite_jobs_failed_total',
      help: 'Jobs given up on after their last attempt failed, by task: they stay in graphile_worker.jobs for an operator to look at.',
      labelNames: ['task'],
      registers,
    });
  }

  jobAttempted(task: string, ok: boolean, seconds: number, gaveUp: boolean): void {
    this.attempts.inc({ task, result: ok ? 'success' : 'error' });
    this.seconds.observe({ task }, seconds);
    if (gaveUp) this.failed.inc({ task });
  }
}
