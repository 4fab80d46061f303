import type { Worker } from 'node:worker_threads';
import type { Level, Logger } from 'pino';
import type { JobObserver } from '../src/metrics/jobMetrics.js';
import { startModuleThread } from '../src/threads.js';
import type { WorkerRunner } from './runner.js';
import type { FromWorkerThread, ToWorkerThread, WorkerThreadData } from './threadProtocol.js';

/** How long a stopping runner may take to finish its jobs before its thread is ended. */
const STOP_MS = 10_000;

/**
 * Starts the job runner on its own thread (workers/thread.ts) and resolves once it runs; `observer`
 * hears of each attempt at a job. A thread that dies is started again after a second: jobs it held
 * are freed by its lease (workers/leases.ts).
 */
export async function startWorkerThread(data: WorkerThreadData, log: Logger, observer?: JobObserver): Promise<WorkerRunner> {
  let stopping = false;
  let worker: Worker | null = null;
  const asked = new Map<number, (bytes: number) => void>();
  let nextAsk = 1;
  worker = await spawn();

  function spawn(): Promise<Worker> {
    const w = startModuleThread(new URL('./thread.ts', import.meta.url), data);
    return new Promise((resolve, reject) => {
      w.on('message', (m: FromWorkerThread) => {
        if (m.t === 'log') return relay(log, m.line);
        if (m.t === 'job') return observer?.jobAttempted(m.task, m.ok, m.seconds, m.gaveUp);
        if (m.t === 'engineMemory') {
          asked.get(m.id)?.(m.bytes);
          asked.delete(m.id);
          return;
        }
        if (m.t === 'started') resolve(w);
        if (m.t === 'failed') reject(new Error(`job runner failed to start: ${m.message}`));
      });
      w.on('error', (err) => log.error({ err }, 'job runner thread failed'));
      w.on('exit', (code) => {
        reject(new Error(`job runner thread exited (${code}) before it started`));
        // Whoever asked the gone thread gets no figure.
        for (const answer of asked.values()) answer(Number.NaN);
        asked.clear();
        if (stopping || worker !== w) return;
        log.error({ code }, 'job runner thread exited; starting it again');
        setTimeout(() => {
          if (stopping) return;
          spawn().then(
            (next) => (worker = next),
            (err) => log.error({ err }, 'job runner thread did not start again'),
          );
        }, 1_000).unref();
      });
    });
  }

  return {
    engineMemory() {
      const id = nextAsk++;
      return new Promise<number>((resolve) => {
        asked.set(id, resolve);
        worker?.postMessage({ t: 'engineMemory', id } satisfies ToWorkerThread);
      });
    },
    async stop() {
      stopping = true;
      const w = worker!;
      const stopped = new Promise<void>((resolve) => {
        w.on('message', (m: FromWorkerThread) => m.t === 'stopped' && resolve());
        w.once('exit', () => resolve());
      });
      w.postMessage({ t: 'stop' } satisfies ToWorkerThread);
      await Promise.race([stopped, new Promise((r) => setTimeout(r, STOP_MS).unref())]);
      await w.terminate();
    },
  };
}

/** Writes one of the thread's pino lines through the server's logger (which adds its own time and pid). */
function relay(log: Logger, line: string): void {
  try {
    const { level, time: _time, pid: _pid, hostname: _hostname, msg, ...fields } = JSON.parse(line) as Record<string, unknown>;
    const label = (log.levels.labels[Number(level)] ?? 'info') as Level;
    log[label]({ thread: 'jobs', ...fields }, String(msg ?? ''));
  } catch {
    log.info({ thread: 'jobs' }, line.trim());
  }
}
