import type { Retention } from './index.js';

/** What the server passes the job runner's thread. */
export interface WorkerThreadData {
  databaseUrl: string;
  logLevel: string;
  /** Connections of the runner's own pool (at least concurrency + 3). */
  poolSize: number;
  applicationName: string;
  retention: Retention;
}

export type ToWorkerThread =
  | { t: 'stop' }
  /** The size of the thread's engine memory; answered as `engineMemory`. */
  | { t: 'engineMemory'; id: number };

export type FromWorkerThread =
  | { t: 'started' }
  | { t: 'failed'; message: string }
  /** One pino line, to write through the server's logger. */
  | { t: 'log'; line: string }
  | { t: 'stopped' }
  | { t: 'engineMemory'; id: number; bytes: number }
  /** An attempt at a job ended (see JobObserver). */
  | { t: 'job'; task: string; ok: boolean; seconds: number; gaveUp: boolean };
