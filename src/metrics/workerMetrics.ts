import { collectDefaultMetrics, Registry } from 'prom-client';
import { engineMemoryBytes } from '../crdt/engine.js';
import { engineMemoryGauge } from './engineMemoryGauge.js';
import { JobMetrics, type JobObserver } from './jobMetrics.js';

/**
 * The standalone job runner's metrics (`npm run worker`, served on METRICS_PORT): Node's own, the
 * jobs it runs, and its engine memory (as `thread="jobs"`, the thread that runs jobs in a server).
 */
export class WorkerMetrics implements JobObserver {
  readonly registry = new Registry();
  private readonly jobs = new JobMetrics(this.registry);

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    engineMemoryGauge(this.registry, { jobs: engineMemoryBytes });
  }

  jobAttempted(task: string, ok: boolean, seconds: number, gaveUp: boolean): void {
    this.jobs.jobAttempted(task, ok, seconds, gaveUp);
  }
}
