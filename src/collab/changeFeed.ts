import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { FromFeed, Rebased, ToFeed } from '../crdt/feedProtocol.js';
import type { Reads } from '../crdt/replica.js';
import type { RemoteVersion } from '../crdt/version.js';
import { AppError, ErrorCode } from '../errors.js';
import { startModuleThread } from '../threads.js';

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
  private stopping = false;
  private readonly settling = new Map<number, () => void>();
  private nextSettle = 1;
  /** Reads and rebases asked of the thread and not answered yet, by id. */
  private readonly reading = new Map<number, { resolve: (result: never) => void; reject: (e: unknown) => void }>();
  private nextRead = 1;

  constructor(private readonly log: Logger) {}

  start(): void {
    this.stopping = false;
    this.spawn();
  }

  private spawn(): void {
    const worker = startModuleThread(new URL('../crdt/feedThread.ts', import.meta.url));
    this.worker = worker;
    worker.on('message', (m: FromFeed) => {
      if (m.t === 'settled') {
        this.settling.get(m.id)?.();
        this.settling.delete(m.id);
      } else if (m.t === 'read' || m.t === 'rebased' || m.t === 'engineMemory' || m.t === 'readFailed') {
        const r = this.reading.get(m.id);
        this.reading.delete(m.id);
        if (m.t !== 'readFailed') r?.resolve(m.result as never);
        else r?.reject(new AppError(ErrorCode.UNAVAILABLE, `the document could not be read: ${m.message}; retry`));
      } else this.listeners.get(m.feed)?.onMessage(m);
    });
    worker.on('error', (err) => this.log.error({ err }, 'change-feed thread failed'));
    // A thread that dies takes every feed with it: start a new one, and tell each document, which
    // reloads and moves its subscribers over (they resume from their last version, without a gap).
    worker.on('exit', (code) => {
      if (this.stopping || this.worker !== worker) return;
      this.log.error({ code }, 'change-feed thread exited; restarting it');
      this.releaseSettles();
      this.spawn();
      const lost = [...this.listeners];
      this.listeners.clear();
      for (const [feed, listener] of lost) listener.onMessage({ t: 'failed', feed, message: 'change-feed thread restarted' });
    });
    worker.unref();
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

  /** Resolves once every event for what was sent before has been computed and handed to its documents. */
  settle(): Promise<void> {
    if (!this.worker) return Promise.resolve();
    const id = this.nextSettle++;
    return new Promise((resolve) => {
      this.settling.set(id, resolve);
      this.send({ t: 'settle', id });
    });
  }

  /**
   * A costly read (Replica.read) of a loaded feed's document at `version`, done on the feed's thread
   * (after every entry sent before), so a checkout that costs the whole history does not hold up this one.
   */
  read<K extends keyof Reads>(feed: string, version: RemoteVersion, what: K): Promise<Reads[K]> {
    return this.ask((id) => ({ t: 'read', feed, id, version, what }));
  }

  /** Cursor positions at `from` moved, on the feed's thread, through every later edit it holds (a transform). */
  rebase(feed: string, from: RemoteVersion, positions: number[]): Promise<Rebased> {
    return this.ask((id) => ({ t: 'rebase', feed, id, from, positions }));
  }

  /** The size of the thread's engine memory (see engineMemoryBytes), once it has done what was sent before. */
  engineMemory(): Promise<number> {
    return this.ask((id) => ({ t: 'engineMemory', id }));
  }

  private ask<T>(message: (id: number) => ToFeed): Promise<T> {
    if (!this.worker) return Promise.reject(new AppError(ErrorCode.UNAVAILABLE, 'server is stopping'));
    const id = this.nextRead++;
    return new Promise<T>((resolve, reject) => {
      this.reading.set(id, { resolve: resolve as (r: never) => void, reject });
      this.send(message(id));
    });
  }

  /** A thread that is gone owes nothing more: whoever waits on a settle may go on, a read is refused. */
  private releaseSettles(): void {
    for (const resolve of this.settling.values()) resolve();
    this.settling.clear();
    for (const r of this.reading.values()) r.reject(new AppError(ErrorCode.UNAVAILABLE, 'the change-feed thread restarted; retry'));
    this.reading.clear();
  }

  async stop(): Promise<void> {
    this.releaseSettles();
    this.stopping = true;
    const w = this.worker;
    this.worker = null;
    this.listeners.clear();
    if (w) await w.terminate();
  }
}
