import { EventEmitter } from 'node:events';
import type { WorkerEvents } from 'graphile-worker';
import type pg from 'pg';
import type { Logger } from 'pino';

/** How often a worker process looks for the locks of workers that died. */
const SWEEP_MS = 30_000;

/**
 * graphile-worker leaves a job locked by a worker that was killed mid-job for 4 hours. Here every
 * worker (and worker pool, the name jobs are locked in) is recorded (worker_leases) against a PostgreSQL connection its process holds open for as
 * long as it lives; when that backend is gone the process is gone, and any worker process unlocks
 * the dead workers' jobs (graphile_worker.force_unlock_workers) on start and every SWEEP_MS, so the
 * jobs run again. Tasks are idempotent, so a job cut short and run again is safe.
 */
export class WorkerLeases {
  /** Pass to graphile-worker's run() as `events`: each worker it creates is recorded. */
  readonly events: WorkerEvents = new EventEmitter() as WorkerEvents;
  private readonly mine: string[] = [];
  private timer: NodeJS.Timeout | null = null;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly holder: pg.PoolClient,
    private readonly backend: { pid: number; start: Date },
    private readonly log: Logger,
  ) {
    // Jobs are locked in the name of the worker pool (graphile-worker 0.17), queues by worker: record both.
    this.events.on('pool:create', ({ workerPool }) => void this.record(workerPool.id));
    this.events.on('worker:create', ({ worker }) => void this.record(worker.workerId));
  }

  static async start(pool: pg.Pool, log: Logger): Promise<WorkerLeases> {
    const holder = await pool.connect();
    const { rows } = await holder.query<{ pid: number; start: Date }>('SELECT pid, backend_start AS start FROM pg_stat_activity WHERE pid = pg_backend_pid()');
    const leases = new WorkerLeases(pool, holder, rows[0]!, log);
    await leases.sweep();
    leases.timer = setInterval(() => void leases.sweep().catch((err) => log.warn({ err: String(err) }, 'worker lease sweep failed')), SWEEP_MS);
    leases.timer.unref();
    return leases;
  }

  /** Unlocks the jobs of workers whose process is gone; returns how many workers that was. */
  async sweep(): Promise<number> {
    const { rows } = await this.pool.query<{ worker_id: string }>(
      `DELETE FROM worker_leases w
        WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = w.backend_pid AND a.backend_start = w.backend_start)
        RETURNING worker_id`,
    );
    const dead = rows.map((r) => r.worker_id);
    if (dead.length > 0) {
      await this.pool.query('SELECT graphile_worker.force_unlock_workers($1::text[])', [dead]);
      this.log.warn({ workers: dead }, 'unlocked the jobs of workers whose process died');
    }
    return dead.length;
  }

  private async record(workerId: string): Promise<void> {
    this.mine.push(workerId);
    await this.pool
      .query('INSERT INTO worker_leases (worker_id, backend_pid, backend_start) VALUES ($1, $2, $3) ON CONFLICT (worker_id) DO NOTHING', [workerId, this.backend.pid, this.backend.start])
      .catch((err) => this.log.warn({ err: String(err), workerId }, 'recording a worker lease failed'));
  }

  /** After the runner stopped: this process's workers hold nothing any more. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.pool.query('DELETE FROM worker_leases WHERE worker_id = ANY($1::text[])', [this.mine]).catch(() => undefined);
    this.holder.release();
  }
}
