import type pg from 'pg';
import type { Logger } from 'pino';
import type { ReplicaLimits } from '../crdt/replica.js';
import type { RemoteVersion } from '../crdt/version.js';
import { AppError, ErrorCode } from '../errors.js';
import type { Bus } from '../realtime/bus.js';
import type { Topics, WireEntry } from '../realtime/topics.js';
import type { LogEntry } from '../crdt/replica.js';
import { ChangeFeed } from './changeFeed.js';
import type { StreamBounds } from './changeStream.js';
import { Committer, type JobThresholds } from './committer.js';
import type { ReadOffload } from './documentReads.js';
import { LiveDocument, type DocumentMeta, type LiveDocumentDeps } from './liveDocument.js';
import { noObserver, type CollabObserver } from './observer.js';
import { readMeta } from './storage.js';

export interface DocumentsOptions {
  pool: pg.Pool;
  bus: Bus;
  log: Logger;
  limits: ReplicaLimits;
  streamBounds: StreamBounds;
  /** This instance's id: messages it sent itself are ignored. */
  instanceId: string;
  idleMs: number;
  jobs: JobThresholds;
  /** See LiveDocumentDeps.feedBacklog. */
  feedBacklog: { rows: number; bytes: number };
  /** When a document's costly reads go to the change-feed thread. */
  readOffload: ReadOffload;
  /** Told of commits, loads and reloads (metrics). */
  observer?: CollabObserver;
}

/** How often resident documents are checked against PostgreSQL for rows a lost message would have carried. */
const RESYNC_MS = 2_000;
/** Longest wait between attempts to reload a document while PostgreSQL is unreachable. */
const MAX_RELOAD_DELAY_MS = 2_000;

/**
 * The resident documents of this instance: loads on demand (concurrent loads share one), routes
 * other instances' rows to replicas, evicts idle documents, and replaces a replica that was lost.
 */
export class Documents {
  private readonly resident = new Map<string, LiveDocument>();
  private readonly loading = new Map<string, Promise<LiveDocument | null>>();
  /** Messages that arrived while a document was loading, replayed once it is resident. */
  private readonly early = new Map<string, Topics['doc.ops'][]>();
  /** Documents whose replica is being replaced while the old one serves reads. */
  private readonly reloading = new Set<string>();
  private readonly committer: Committer;
  private readonly observer: CollabObserver;
  private readonly feed: ChangeFeed;
  private readonly deps: LiveDocumentDeps;
  private sweepTimer: NodeJS.Timeout | null = null;
  private resyncTimer: NodeJS.Timeout | null = null;
  private busSub: number | null = null;
  private stopped = false;

  constructor(private readonly opts: DocumentsOptions) {
    this.observer = opts.observer ?? noObserver;
    this.committer = new Committer(opts.pool, opts.log, opts.jobs, this.observer);
    this.feed = new ChangeFeed(opts.log);
    this.deps = {
      pool: opts.pool,
      committer: this.committer,
      feed: this.feed,
      limits: opts.limits,
      streamBounds: opts.streamBounds,
      feedBacklog: opts.feedBacklog,
      readOffload: opts.readOffload,
      observer: this.observer,
      log: opts.log,
      announce: (documentId, fromOrder, toOrder, entries) => this.announce(documentId, fromOrder, toOrder, entries),
      onLost: (doc, reason, readable) => (readable ? this.reload(doc, reason) : this.replace(doc, reason)),
    };
  }

  async start(): Promise<void> {
    this.feed.start();
    this.busSub = await this.opts.bus.subscribe('doc.ops', (m) => this.onRemote(m));
    const every = Math.max(1_000, Math.floor(this.opts.idleMs / 2));
    this.sweepTimer = setInterval(() => this.sweep(), every);
    this.sweepTimer.unref();
    if (this.opts.bus.kind === 'redis') {
      this.resyncTimer = setInterval(() => void this.resync(), RESYNC_MS);
      this.resyncTimer.unref();
    }
  }

  /**
   * Resolves when every resident document's queued work is committed and answered, and its events
   * are in its subscribers' streams.
   */
  async drain(): Promise<void> {
    await this.finishWork();
    await this.feed.settle();
    // Subscribers that are reading take their last events; one that is not is not waited for long.
    for (let i = 0; i < 100 && [...this.resident.values()].some((d) => d.pendingEvents() > 0); i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setImmediate(r));
  }

  /** The size of the change-feed thread's engine memory, once it has done what was sent before. */
  feedEngineMemory(): Promise<number> {
    return this.feed.engineMemory();
  }

  /** Waits for loads in flight and every document's queued edits, committed. */
  private async finishWork(): Promise<void> {
    await Promise.allSettled([...this.loading.values()]);
    await Promise.all([...this.resident.values()].map((d) => d.drain()));
    await this.committer.idle();
  }

  /** Finishes queued work, ends subscriptions and frees every replica. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    if (this.busSub !== null) this.opts.bus.unsubscribe(this.busSub);
    await this.finishWork();
    for (const d of this.resident.values()) {
      d.endStreams();
      d.dispose();
    }
    this.resident.clear();
    await this.feed.stop();
  }

  /** The resident document, loading it if needed. Null when it does not exist. */
  async get(id: string): Promise<LiveDocument | null> {
    if (this.stopped) throw new AppError(ErrorCode.UNAVAILABLE, 'server is shutting down');
    const doc = this.resident.get(id);
    if (doc) return doc;
    let p = this.loading.get(id);
    if (!p) {
      p = this.load(id);
      this.loading.set(id, p);
    }
    return p;
  }

  /**
   * The committed text and version of a document that is not resident, straight from its newest
   * snapshot when no operation row came after it (read in one statement): a cold read costs one
   * query, whatever the length of the history. Null when resident, or when rows follow the snapshot.
   */
  async storedState(id: string): Promise<{ meta: DocumentMeta; content: string; version: RemoteVersion } | null> {
    if (this.resident.has(id)) return null;
    const { rows } = await this.opts.pool.query<{ owner_id: string; title: string; created_at: Date; updated_at: Date; deleted_at: Date | null; content: string; version: RemoteVersion }>(
      `SELECT d.owner_id, d.title, d.created_at, d.updated_at, d.deleted_at, s.content, s.version
         FROM documents d
         JOIN LATERAL (SELECT content, version, server_order FROM snapshots WHERE document_id = d.id ORDER BY server_order DESC LIMIT 1) s ON true
        WHERE d.id = $1 AND s.server_order = d.op_count`,
      [id],
    );
    const r = rows[0];
    if (!r) return null;
    return { meta: { id, ownerId: r.owner_id, title: r.title, createdAt: r.created_at, updatedAt: r.updated_at, deletedAt: r.deleted_at }, content: r.content, version: r.version };
  }

  /** A document's row (resident or not); null when there is no such document. */
  meta(id: string): Promise<DocumentMeta | null> {
    return readMeta(this.opts.pool, id);
  }

  /** Re-reads a resident document's row (title, owner) after another command changed it. */
  async refreshMeta(id: string): Promise<void> {
    const doc = this.resident.get(id);
    if (!doc) return;
    const meta = await readMeta(this.opts.pool, id);
    if (meta) Object.assign(doc.meta, meta);
  }

  /** Resident only; never loads. */
  peek(id: string): LiveDocument | undefined {
    return this.resident.get(id);
  }

  /** What is resident now: documents, and the change subscriptions open on them. */
  stats(): { resident: number; subscriptions: number } {
    let subscriptions = 0;
    for (const d of this.resident.values()) subscriptions += d.subscriberCount;
    return { resident: this.resident.size, subscriptions };
  }

  private async load(id: string): Promise<LiveDocument | null> {
    this.early.set(id, []);
    const started = performance.now();
    try {
      const doc = await LiveDocument.load(id, this.deps);
      if (doc) this.observer.loaded((performance.now() - started) / 1000);
      if (doc && !this.stopped) {
        this.resident.set(id, doc);
        for (const m of this.early.get(id) ?? []) doc.remote(m.fromOrder, m.toOrder, m.entries.map(fromWire));
      }
      return doc;
    } finally {
      this.early.delete(id);
      this.loading.delete(id);
    }
  }

  private onRemote(m: Topics['doc.ops']): void {
    if (m.origin === this.opts.instanceId) return;
    const doc = this.resident.get(m.documentId);
    if (this.reloading.has(m.documentId)) this.early.get(m.documentId)?.push(m);
    else if (doc) doc.remote(m.fromOrder, m.toOrder, m.entries.map(fromWire));
    else this.early.get(m.documentId)?.push(m);
  }

  private announce(documentId: string, fromOrder: number, toOrder: number, entries: LogEntry[]): void {
    if (this.opts.bus.kind === 'memory') return; // one instance: nobody else to tell
    const message: Topics['doc.ops'] = {
      origin: this.opts.instanceId,
      documentId,
      fromOrder,
      toOrder,
      entries: entries.map(toWire),
    };
    // Rows are durable already; an instance that misses this message reads them from PostgreSQL.
    this.opts.bus.publish('doc.ops', message).catch((err) => this.opts.log.warn({ err: String(err), documentId }, 'publishing operations failed'));
  }

  /** A replica was lost: free it, load a fresh one from storage and move its subscribers over. */
  private replace(doc: LiveDocument, reason: unknown): void {
    this.opts.log.warn({ documentId: doc.id, reason: String((reason as Error)?.message ?? reason) }, 'document replica lost; reloading from storage');
    this.observer.reloaded('engine');
    if (this.resident.get(doc.id) === doc) this.resident.delete(doc.id);
    const streams = doc.detachStreams();
    queueMicrotask(() => doc.dispose());
    if (streams.length === 0 || this.stopped) {
      for (const s of streams) s.fail(new AppError(ErrorCode.UNAVAILABLE, 'document is reloading; resubscribe'));
      return;
    }
    void this.get(doc.id)
      .then(async (fresh) => {
        if (!fresh) throw new AppError(ErrorCode.NOT_FOUND, 'document not found');
        for (const s of streams) await fresh.adopt(s);
      })
      .catch((err) => {
        const e = err instanceof AppError ? err : new AppError(ErrorCode.UNAVAILABLE, 'document is reloading; resubscribe with your last version');
        for (const s of streams) s.fail(e);
      });
  }

  /**
   * A commit failed (PostgreSQL unreachable): the replica may hold operations that are not durable, so
   * it takes no more edits, but its committed text and its subscribers are sound. It stays resident for
   * readers while a fresh replica is loaded (retrying until PostgreSQL is back); then its subscribers
   * move over, each from the last version it was sent.
   */
  private reload(doc: LiveDocument, reason: unknown): void {
    this.opts.log.warn({ documentId: doc.id, reason: String((reason as Error)?.message ?? reason) }, 'commit failed; serving reads while reloading from storage');
    this.observer.reloaded('storage');
    const id = doc.id;
    this.reloading.add(id);
    this.early.set(id, []);
    const attempt = async (delay: number): Promise<void> => {
      if (this.stopped || this.resident.get(id) !== doc) return this.endReload(id);
      try {
        const fresh = await LiveDocument.load(id, this.deps);
        if (this.stopped || this.resident.get(id) !== doc) {
          fresh?.dispose();
          return this.endReload(id);
        }
        const streams = doc.detachStreams();
        doc.dispose();
        if (!fresh) {
          this.resident.delete(id);
          for (const s of streams) s.fail(new AppError(ErrorCode.NOT_FOUND, 'document not found'));
          return this.endReload(id);
        }
        this.resident.set(id, fresh);
        for (const m of this.early.get(id) ?? []) fresh.remote(m.fromOrder, m.toOrder, m.entries.map(fromWire));
        this.endReload(id);
        this.opts.log.info({ documentId: id }, 'document reloaded from storage');
        for (const s of streams) await fresh.adopt(s).catch((err) => s.fail(err));
      } catch (err) {
        this.opts.log.debug({ documentId: id, err: String(err) }, 'reload failed; retrying');
        await new Promise((r) => setTimeout(r, delay).unref());
        return attempt(Math.min(delay * 2, MAX_RELOAD_DELAY_MS));
      }
    };
    void attempt(100);
  }

  private endReload(id: string): void {
    this.reloading.delete(id);
    if (!this.loading.has(id)) this.early.delete(id);
  }

  /**
   * Pub/sub may drop a message (Redis restarting, a slow subscriber connection): every few seconds,
   * resident documents that PostgreSQL says are ahead read the rows they missed.
   */
  private async resync(): Promise<void> {
    if (this.resident.size === 0 || this.stopped) return;
    try {
      const res = await this.opts.pool.query<{ id: string; op_count: string }>('SELECT id, op_count FROM documents WHERE id = ANY($1::uuid[])', [
        [...this.resident.keys()],
      ]);
      for (const r of res.rows) {
        const doc = this.resident.get(r.id);
        const count = Number(r.op_count);
        if (doc && count > doc.appliedOrder) doc.remote(0, count, []);
      }
    } catch (err) {
      this.opts.log.debug({ err: String(err) }, 'resync skipped');
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, doc] of this.resident) {
      if (doc.isIdle(now, this.opts.idleMs)) {
        this.resident.delete(id);
        doc.dispose();
      }
    }
  }
}

function toWire(e: LogEntry): WireEntry {
  return e.kind === 'patch' ? { kind: 'patch', patch: Buffer.from(e.patch.buffer, e.patch.byteOffset, e.patch.byteLength).toString('base64') } : e;
}

function fromWire(e: WireEntry): LogEntry {
  return e.kind === 'patch' ? { kind: 'patch', patch: Buffer.from(e.patch, 'base64') } : e;
}
