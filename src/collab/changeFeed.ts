import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { FromFeed, ToFeed } from '../crdt/feedProtocol.js';

export interface FeedListener {
  onMessage(m: FromFeed): void;
}

/**
 * The main thread's side of the change-feed thread (src/crdt/feedThread.ts): posts committed entries
 * and subscription requests, and routes the events back to the live document that owns each feed.
 */
export class ChangeFeed {
  private worker: Worker | null = null;
  private readonly listeners = new Map<string, FeedListener>();

  constructor(private readonly log: Logger) {}

  start(): void {
    const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
    const entry = new URL(`../crdt/feedThread${ext}`, import.meta.url).href;
    // Running from TypeScript sources: the thread registers tsx before loading its entry.
    const boot =
      ext === '.ts'
        ? `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`
        : `import(${JSON.stringify(entry)})`;
    this.worker = new Worker(boot, { eval: true });
    this.worker.on('message', (m: FromFeed) => this.listeners.get(m.feed)?.onMessage(m));
    this.worker.on('error', (err) => this.log.error({ err }, 'change-feed thread failed'));
    this.worker.unref();
  }

  register(feed: string, listener: FeedListener): void {
    this.listeners.set(feed, listener);
  }

  unregister(feed: string): void {
    this.listeners.delete(feed);
    this.send({ t: 'unload', feed });
  }

  send(m: ToFeed): void {
    this.worker?.postMessage(m);
  }

  async stop(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    this.listeners.clear();
    if (w) await w.terminate();
  }
}
