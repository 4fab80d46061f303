import { Gauge, type Registry } from 'prom-client';

/** How long a scrape waits for a thread busy with a long engine call before it leaves that thread's figure as it was. */
const THREAD_ANSWER_MS = 1_000;

/**
 * `cowrite_engine_memory_bytes{thread}`: the CRDT engine's WebAssembly memory on each thread that
 * runs one, asked at scrape time; a thread that does not answer within a second keeps its last figure.
 */
export function engineMemoryGauge(registry: Registry, threads: Record<string, () => number | Promise<number>>): Gauge<'thread'> {
  return new Gauge({
    name: 'cowrite_engine_memory_bytes',
    help: "Size of the CRDT engine's WebAssembly memory, by thread (main: edits and reads; feed: subscribers' events and offloaded reads; jobs: snapshots, compaction, versions). It never shrinks, and freed room is reused: flat while documents come and go, so a steady climb means engine objects that are not freed.",
    labelNames: ['thread'],
    registers: [registry],
    async collect() {
      await Promise.all(
        Object.entries(threads).map(async ([thread, read]) => {
          const bytes = await Promise.race([read(), new Promise<number>((r) => setTimeout(() => r(Number.NaN), THREAD_ANSWER_MS).unref())]).catch(() => Number.NaN);
          if (Number.isFinite(bytes)) this.set({ thread }, bytes);
        }),
      );
    },
  });
}
