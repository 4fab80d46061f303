import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { FromFeed, Rebased } from '../crdt/feedProtocol.js';
import { BrokenPatchError, EngineFailure, UnknownVersionError, entryBytes, type EditResult, type Frontier, type LogEntry, type Replica, type ReplicaLimits, type TextOp } from '../crdt/replica.js';
import type { AuthorRun } from '../crdt/authorship.js';
import type { RemoteVersion } from '../crdt/version.js';
import { AppError, ErrorCode, isKnownCode } from '../errors.js';
import type { ChangeFeed, FeedListener } from './changeFeed.js';
import { ChangeStream, type StreamBounds } from './changeStream.js';
import type { Committer, OpRow } from './committer.js';
import { DocumentReads, type ReadOffload } from './documentReads.js';
import type { CollabObserver } from './observer.js';
import { buildReplica, readHistory, readMeta, readOperations, rowToEntry } from './storage.js';

export interface LiveDocumentDeps {
  pool: pg.Pool;
  committer: Committer;
  feed: ChangeFeed;
  limits: ReplicaLimits;
  /** How far each subscriber may fall behind before it is told to resume. */
  streamBounds: StreamBounds;
  /**
   * Committed entries kept for a change feed nobody has subscribed to yet: past this many, or this
   * many bytes (an estimate), the feed is given its copy anyway (its thread holds the history as the
   * engine's compact oplog; folding it here would take the engine's encoding, which costs the whole
   * concurrent history, on this thread).
   */
  feedBacklog: { rows: number; bytes: number };
  /** When the document's costly reads go to the change-feed thread (see ReadOffload). */
  readOffload: ReadOffload;
  observer: CollabObserver;
  log: Logger;
  /** Called after a batch of rows committed, to tell other instances. Never throws. */
  announce(documentId: string, fromOrder: number, toOrder: number, entries: LogEntry[]): void;
  /**
   * Called when the replica is lost: the manager reloads it. `readable` when only the commit failed
   * (PostgreSQL down): the committed text is intact and may still be served until the reload succeeds.
   */
  onLost(doc: LiveDocument, reason: unknown, readable: boolean): void;
}

export interface DocumentMeta {
  id: string;
  ownerId: string;
  title: string;
  createdAt: Date;
  updatedAt: Date;
  /** Set for a document in the trash. */
  deletedAt?: Date | null;
}

type Work =
  | { kind: 'edit'; userId: string; agent: string; seq: number; parents: RemoteVersion; ops: TextOp[]; resolve: (r: EditResult) => void; reject: (e: unknown) => void }
  | { kind: 'patch'; userId: string; bytes: Uint8Array; resolve: (r: EditResult) => void; reject: (e: unknown) => void }
  | { kind: 'remote'; fromOrder: number; toOrder: number; entries: LogEntry[] };

/**
 * A resident document: its replica, the edits waiting for it, and its subscribers. Work is processed
 * one batch at a time: validate and apply every waiting edit, commit their rows together, then hand
 * the committed entries to the change feed (which computes subscribers' events on its own thread),
 * answer the writers, and announce the rows to other instances. Nothing on this path transforms, so
 * a crowded document's history never slows its acknowledgements or other documents.
 */
export class LiveDocument implements FeedListener {
  private queue: Work[] = [];
  private running: Promise<void> | null = null;
  private readonly agents = new Map<string, string>();
  private readonly streams = new Map<number, ChangeStream>();
  private readonly attaching = new Map<number, { stream: ChangeStream; resolve: () => void; reject: (e: unknown) => void }>();
  private nextStreamId = 1;
  private appliedThrough: number;
  private readonly appliedAbove = new Set<number>();
  /** Everything in the replica is committed up to here (the replica may run ahead during a commit). */
  private committed: Frontier;
  /** Committed entries not yet handed to the change feed, in the order the replica applied them. */
  private outbox: LogEntry[] = [];
  /** This loaded copy's name at the change feed. */
  private readonly feedId = randomUUID();
  /**
   * The stored history plus every committed entry since, kept until the first subscriber: only then
   * does the change feed get its copy (most loads are reads and edits, which need no feed), or once
   * it grows past the `deps.feedBacklog` bounds.
   */
  private feedBacklog: { snapshot: Uint8Array | null; entries: LogEntry[]; bytes: number } | null;
  private lost = false;
  /** Where the costly reads run (here or on the change-feed thread), and the lengths learnt there. */
  private readonly reads: DocumentReads;
  /** Lost because a commit failed, not the engine: the committed text and the feed are still sound. */
  private readable = false;
  lastActive = Date.now();
  /** Other users of this loaded copy that keep it resident (presence subscriptions). */
  private holds = 0;

  private constructor(
    readonly meta: DocumentMeta,
    private readonly replica: Replica,
    appliedThrough: number,
    agents: [string, string][],
    private readonly deps: LiveDocumentDeps,
    history: { snapshot: Uint8Array | null; entries: LogEntry[] },
  ) {
    this.feedBacklog = { snapshot: history.snapshot, entries: [...history.entries], bytes: history.entries.reduce((n, e) => n + entryBytes(e), 0) };
    this.appliedThrough = appliedThrough;
    for (const [a, u] of agents) this.agents.set(a, u);
    this.committed = replica.frontier();
    this.reads = new DocumentReads({
      documentId: meta.id,
      replica,
      feed: deps.feed,
      feedId: this.feedId,
      loadFeed: () => this.loadFeed(),
      lost: () => this.lost,
      offload: deps.readOffload,
      observer: deps.observer,
      log: deps.log,
    });
    // Loaded with concurrent heads: how crowded the history behind them is, only a transform would
    // tell. Its length stands in for it.
    this.reads.committed(this.committed.length, appliedThrough);
  }

  /** Loads a document from its newest snapshot plus the operation rows after it. Null when missing. */
  static async load(id: string, deps: LiveDocumentDeps): Promise<LiveDocument | null> {
    const { pool } = deps;
    const meta = await readMeta(pool, id);
    if (!meta) return null;
    const [history, agents] = await Promise.all([
      readHistory(pool, id),
      pool.query<{ agent: string; user_id: string }>('SELECT agent, user_id FROM document_agents WHERE document_id = $1', [id]),
    ]);
    const replica = buildReplica(history);
    return new LiveDocument(meta, replica, history.through, agents.rows.map((a) => [a.agent, a.user_id]), deps, history);
  }

  get id(): string {
    return this.meta.id;
  }

  /** The last committed version. */
  version(): RemoteVersion {
    return this.replica.toRemote(this.committed);
  }

  /**
   * Content and version read together, from the same committed point. Under sustained concurrency a
   * checkout costs the whole concurrent history (like a transform): once one has been slow here, or
   * the history is crowded (see `readOffload`), this document's reads are checked out on the
   * change-feed thread instead, which holds the same committed history, so they never hold up this one.
   */
  async read(): Promise<{ content: string; version: RemoteVersion }> {
    this.touch();
    const committed = this.committed;
    const version = this.replica.toRemote(committed);
    return { content: await this.reads.read('text', committed), version };
  }

  /**
   * Checks cursor positions against the text at `version` (null: the current text) and returns that
   * version. UNKNOWN_VERSION or BAD_USER_INPUT when they do not fit.
   */
  async cursorVersion(version: RemoteVersion | null, positions: number[]): Promise<RemoteVersion> {
    const f = version === null ? await this.reads.currentForCursors(this.committed) : this.replica.resolve(version, 'version');
    if (!this.replica.descends(this.committed, f)) throw new UnknownVersionError('version');
    const len = await this.reads.read('length', f);
    for (const p of positions) {
      if (p < 0 || p > len) throw new AppError(ErrorCode.BAD_USER_INPUT, `cursor position ${p} is outside the text (length ${len})`, { field: 'cursor', max: len });
    }
    return this.replica.toRemote(f);
  }

  /**
   * Positions given at `from`, moved through every later committed edit to the last committed
   * version (so they stay on the same characters). Null when that cannot be done now: `from` is not
   * known here yet, or an edit is being committed. A transform: once one here (or a read) has been
   * slow, it is done on the change-feed thread, like the reads, and the answer comes later.
   */
  rebase(from: RemoteVersion, positions: number[]): Rebased | null | Promise<Rebased | null> {
    if (this.lost) return null;
    let f: Frontier;
    try {
      f = this.replica.resolve(from, 'version');
    } catch {
      return null;
    }
    const committed = this.committed;
    if (this.replica.descends(f, committed)) return this.replica.descends(committed, f) ? { version: this.version(), positions } : null;
    if (!this.replica.descends(committed, f)) return null;
    if (!this.reads.offloading) {
      // changesSince runs to the replica's own frontier, which runs ahead of `committed` during a commit.
      if (!this.replica.descends(committed, this.replica.frontier())) return null;
      return { version: this.version(), positions: this.reads.transformHere(f, positions) };
    }
    // The feed's replica holds exactly what was committed and sent to it before this.
    return this.reads.transformThere(f, positions);
  }

  /**
   * The text at any version a client has seen (time travel): the replica holds the whole history.
   * A version from another instance that has not reached this one yet is read from PostgreSQL first.
   */
  async textAtVersion(version: RemoteVersion): Promise<string> {
    return this.reads.read('pastText', await this.seenFrontier(version));
  }

  /**
   * The history of `version` (null: the last committed version) alone, as oplog bytes, with its text,
   * its version and the agents it holds: the snapshot a fork that keeps history starts from.
   */
  async historyAt(version: RemoteVersion | null): Promise<{ bytes: Uint8Array; agents: string[]; content: string; version: RemoteVersion }> {
    const f = await this.seenFrontier(version);
    return { ...(await this.reads.read('history', f)), version: this.replica.toRemote(f) };
  }

  /**
   * Who wrote each character of the text at `version` (null: the last committed version), with that
   * text. (Which user and when: the operation rows say; see the authorship field.)
   */
  async authorship(version: RemoteVersion | null): Promise<{ text: string; runs: AuthorRun[] }> {
    return this.reads.read('authorship', await this.seenFrontier(version));
  }

  /** A version a client may have seen (null: the last committed one), caught up to if it is another instance's. */
  private async seenFrontier(version: RemoteVersion | null): Promise<Frontier> {
    this.touch();
    if (version === null) return this.committed;
    await this.catchUpTo(version);
    const f = this.replica.resolve(version, 'version');
    // A version that includes operations still being committed is not one a client has seen.
    if (!this.replica.descends(this.committed, f)) throw new UnknownVersionError('version');
    return f;
  }

  /**
   * A version given by another instance may name rows this one has not merged yet (its message is
   * late or lost): when the replica does not know it, the queue reads the log from PostgreSQL first,
   * and this resolves once that (and any commit in flight) is done. Whether it is known then is the
   * caller's to check.
   */
  private async catchUpTo(version: RemoteVersion): Promise<void> {
    try {
      const f = this.replica.resolve(version, 'version');
      if (this.replica.descends(this.committed, f)) return;
    } catch (err) {
      if (!(err instanceof UnknownVersionError)) throw err;
    }
    if (this.lost) return;
    this.remote(0, Number.MAX_SAFE_INTEGER, []);
    await this.drain();
  }

  /** Records an agent issued to a user (joinDocument on this instance). */
  noteAgent(agent: string, userId: string): void {
    this.agents.set(agent, userId);
  }

  /** True when the document can be evicted: nothing queued, running or subscribed, idle long enough. */
  isIdle(now: number, idleMs: number): boolean {
    return !this.running && this.queue.length === 0 && this.streams.size === 0 && this.attaching.size === 0 && this.holds === 0 && now - this.lastActive >= idleMs;
  }

  /** Keeps the document resident until the returned function is called. */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      this.touch();
    };
  }

  /** Applies a positional edit; resolves once its operations are committed. */
  async edit(userId: string, agent: string, seq: number, parents: RemoteVersion, ops: TextOp[]): Promise<EditResult> {
    this.requireAccepting();
    await this.requireAgent(userId, agent);
    return new Promise((resolve, reject) => this.enqueue({ kind: 'edit', userId, agent, seq, parents, ops, resolve, reject }));
  }

  /** Merges a patch of the caller's operations; resolves once they are committed. */
  async patch(userId: string, bytes: Uint8Array): Promise<EditResult> {
    this.requireAccepting();
    await this.loadAgentsOf(userId);
    return new Promise((resolve, reject) => this.enqueue({ kind: 'patch', userId, bytes, resolve, reject }));
  }

  /** The server order up to which every row is in this replica. */
  get appliedOrder(): number {
    return this.appliedThrough;
  }

  /** Rows committed elsewhere (another instance), announced over the bus (no entries: read them from PostgreSQL). */
  remote(fromOrder: number, toOrder: number, entries: LogEntry[]): void {
    if (toOrder <= this.appliedThrough) return;
    this.enqueue({ kind: 'remote', fromOrder, toOrder, entries });
  }

  /**
   * Opens a change stream from `since` (null: from the current version). The stream first gets one
   * event taking `since` to the current version, then every later event, with no gap.
   */
  async subscribe(userId: string, since: RemoteVersion | null, wantsPatch = true): Promise<ChangeStream> {
    // The change feed is fed from this replica, in order: once the replica knows `since`, so will it.
    if (since !== null) await this.catchUpTo(since);
    const stream = new ChangeStream(userId, since, wantsPatch, this.deps.streamBounds);
    await this.adopt(stream);
    return stream;
  }

  /** Attaches a stream (new, or carried over from a lost replica) at its last queued version. */
  adopt(stream: ChangeStream): Promise<void> {
    this.touch();
    if (this.lost && !this.readable) return Promise.reject(new AppError(ErrorCode.UNAVAILABLE, 'document is reloading; resubscribe'));
    const id = this.nextStreamId++;
    this.loadFeed();
    return new Promise((resolve, reject) => {
      this.attaching.set(id, { stream, resolve, reject });
      this.deps.feed.send({ t: 'attach', feed: this.feedId, stream: id, since: stream.lastVersion, wantsPatch: stream.wantsPatch });
    });
  }

  /** Events and answers from the change-feed thread. */
  onMessage(m: FromFeed): void {
    switch (m.t) {
      case 'change':
        this.reads.eventSent(m.change.version, m.length);
        for (const s of this.streams.values()) s.push(m.change);
        return;
      case 'attached': {
        const a = this.attaching.get(m.stream);
        if (!a) return;
        this.attaching.delete(m.stream);
        if (m.change) {
          this.reads.eventSent(m.change.version, m.length);
          a.stream.push(m.change);
        }
        a.stream.onClose = () => {
          this.streams.delete(m.stream);
          this.deps.feed.send({ t: 'detach', feed: this.feedId, stream: m.stream, wantsPatch: a.stream.wantsPatch });
        };
        if (a.stream.closed) a.stream.onClose(a.stream);
        else this.streams.set(m.stream, a.stream);
        a.resolve();
        return;
      }
      case 'attachFailed': {
        const a = this.attaching.get(m.stream);
        this.attaching.delete(m.stream);
        a?.reject(new AppError(isKnownCode(m.code) ? m.code : ErrorCode.INTERNAL_SERVER_ERROR, m.message));
        return;
      }
      case 'failed':
        this.deps.log.error({ documentId: this.id, reason: m.message }, 'change feed lost the document');
        this.fail([], new EngineFailure(m.message));
        return;
    }
  }

  /** Open subscriptions on this loaded copy. */
  get subscriberCount(): number {
    return this.streams.size;
  }

  /** Events queued in this document's streams and not yet taken by their consumers. */
  pendingEvents(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.pending;
    return n;
  }

  /** Streams to move to a reloaded replica after this one was lost. */
  detachStreams(): ChangeStream[] {
    const list = [...this.streams.values(), ...[...this.attaching.values()].map((a) => a.stream)];
    this.streams.clear();
    this.attaching.clear();
    return list;
  }

  /** Ends every stream (with an error when given: the document was deleted, the server is stopping...). */
  endStreams(err?: unknown): void {
    for (const s of this.detachStreams()) {
      if (err) s.fail(err);
      else void s.return();
    }
  }

  /** Resolves when all queued work is done. */
  async drain(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Frees the replica. The document must not be used afterwards. */
  dispose(): void {
    this.lost = true;
    this.readable = false;
    const err = new AppError(ErrorCode.UNAVAILABLE, 'document was unloaded; retry');
    for (const w of this.queue.splice(0)) if (w.kind !== 'remote') w.reject(err);
    for (const a of this.attaching.values()) a.reject(err);
    this.attaching.clear();
    this.deps.feed.unregister(this.feedId);
    this.replica.free();
  }

  /** Gives the change feed its copy of the committed history, once. */
  private loadFeed(): void {
    const backlog = this.feedBacklog;
    if (!backlog) return;
    this.feedBacklog = null;
    this.deps.feed.register(this.feedId, this);
    this.deps.feed.send({ t: 'load', feed: this.feedId, documentId: this.id, snapshot: backlog.snapshot, entries: backlog.entries });
  }

  /** Fails fast while the replica is being replaced (PostgreSQL down, say): never queue behind it. */
  private requireAccepting(): void {
    if (this.lost) throw new AppError(ErrorCode.UNAVAILABLE, 'the document cannot take edits right now (storage unavailable); retry');
  }

  private touch(): void {
    this.lastActive = Date.now();
  }

  private enqueue(w: Work): void {
    if (this.lost) {
      if (w.kind !== 'remote') w.reject(new AppError(ErrorCode.UNAVAILABLE, 'document is reloading; retry'));
      return;
    }
    this.touch();
    this.queue.push(w);
    if (!this.running) this.running = this.pump();
  }

  private async pump(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.lost) {
        const batch = this.queue;
        this.queue = [];
        try {
          await this.process(batch);
        } catch (err) {
          this.fail(batch, err);
        }
      }
    } finally {
      this.running = null;
    }
  }

  private fail(batch: Work[], err: unknown, readable = false): void {
    const clientErr = err instanceof AppError ? err : new AppError(ErrorCode.UNAVAILABLE, 'the edit could not be applied; retry');
    for (const w of batch) if (w.kind !== 'remote') w.reject(clientErr);
    this.outbox = [];
    if (!this.lost) {
      this.lost = true;
      this.readable = readable;
      for (const w of this.queue.splice(0)) if (w.kind !== 'remote') w.reject(clientErr);
      this.deps.onLost(this, err, readable);
    }
  }

  /** False once the replica was lost: it takes no more edits (reads of committed text may go on). */
  get accepting(): boolean {
    return !this.lost;
  }

  private async process(batch: Work[]): Promise<void> {
    // Rows committed elsewhere come first: they are durable already.
    for (const w of batch) if (w.kind === 'remote') await this.mergeRemote(w);
    if (this.reads.offloading) await this.reads.learnLengths(batch.flatMap((w) => (w.kind === 'edit' ? [w.parents] : [])), this.committed);

    const accepted: { w: Extract<Work, { kind: 'edit' | 'patch' }>; result: EditResult }[] = [];
    const rows: OpRow[] = [];
    for (const w of batch) {
      if (w.kind !== 'edit' && w.kind !== 'patch') continue;
      try {
        const result = await this.applyWithCatchUp(w);
        accepted.push({ w, result });
        if (result.entry) {
          rows.push(this.rowFor(w, result, result.entry));
          this.outbox.push(result.entry);
        }
      } catch (err) {
        if (err instanceof EngineFailure) throw err;
        if (err instanceof BrokenPatchError) {
          this.deps.observer.patchCrashedEngine();
          this.deps.log.error({ documentId: this.id, userId: w.userId }, 'a patch that passed every check crashed the CRDT engine on its scratch copy; refused');
        }
        w.reject(err);
      }
    }

    let committed: { firstOrder: number; lastOrder: number } | null = null;
    if (rows.length > 0) {
      try {
        committed = await this.deps.committer.commit(this.id, rows);
      } catch (err) {
        // The replica holds operations that are not durable: it must be rebuilt from storage. The
        // writers may retry: a retry of an edit that did commit (elsewhere) is answered as a duplicate.
        const clientErr = err instanceof AppError ? err : new AppError(ErrorCode.UNAVAILABLE, 'the edit could not be committed; retry it');
        for (const a of accepted) a.w.reject(clientErr);
        this.fail([], err, true);
        return;
      }
      this.markApplied(committed.firstOrder, committed.lastOrder);
      this.meta.updatedAt = new Date();
      // Our rows landed above a gap: another instance committed rows we have not seen. Read them now
      // rather than wait for a message that may have been lost.
      if (this.appliedAbove.size > 0) this.queue.push({ kind: 'remote', fromOrder: 0, toOrder: committed.lastOrder, entries: [] });
    }
    this.committed = this.replica.frontier();
    this.reads.committed(this.committed.length, this.outbox.length);
    // The feed sees the entries before any writer hears back: a version a writer was given is one a
    // subscription can start from.
    if (this.outbox.length > 0) {
      if (this.feedBacklog) {
        const backlog = this.feedBacklog;
        backlog.entries.push(...this.outbox);
        for (const e of this.outbox) backlog.bytes += entryBytes(e);
        if (backlog.entries.length > this.deps.feedBacklog.rows || backlog.bytes > this.deps.feedBacklog.bytes) this.loadFeed();
      } else {
        this.deps.feed.send({ t: 'apply', feed: this.feedId, entries: this.outbox });
        this.deps.feed.send({ t: 'flush', feed: this.feedId });
      }
      this.outbox = [];
    }
    for (const a of accepted) a.w.resolve(a.result);
    if (committed) this.deps.announce(this.id, committed.firstOrder, committed.lastOrder, rows.map((r) => r.entry));
  }

  private rowFor(w: Extract<Work, { kind: 'edit' | 'patch' }>, r: EditResult, entry: LogEntry): OpRow {
    const first = r.runs[0];
    const last = r.runs[r.runs.length - 1];
    const single = r.runs.every((x) => x.agent === first?.agent);
    return {
      agent: first?.agent ?? '',
      seqStart: first?.seqStart ?? 0,
      seqEnd: single ? (last?.seqEnd ?? 0) : (first?.seqEnd ?? 0),
      entry,
      authorId: w.userId,
      inserted: r.inserted,
      deleted: r.deleted,
    };
  }

  private async applyWithCatchUp(w: Extract<Work, { kind: 'edit' | 'patch' }>): Promise<EditResult> {
    for (let attempt = 0; ; attempt++) {
      try {
        if (w.kind === 'edit') return this.replica.applyEdit(w.agent, w.seq, w.parents, w.ops, this.deps.limits);
        return this.replica.applyPatch(w.bytes, (agent) => this.agents.get(agent) === w.userId, this.deps.limits);
      } catch (err) {
        // A version, or the agent's earlier operations, committed on another instance may not have
        // reached us yet: read the log, then try again (once: after that the error is the client's).
        const mayBeBehind = err instanceof UnknownVersionError || (err instanceof AppError && err.code === ErrorCode.SEQ_GAP);
        if (mayBeBehind && attempt === 0 && (await this.catchUp()) > 0) continue;
        throw err;
      }
    }
  }

  private async mergeRemote(w: Extract<Work, { kind: 'remote' }>): Promise<void> {
    if (w.toOrder <= this.appliedThrough) return;
    if (w.fromOrder === this.appliedThrough + 1 && w.entries.length === w.toOrder - w.fromOrder + 1) {
      for (const e of w.entries) this.applyCommitted(e);
      this.markApplied(w.fromOrder, w.toOrder);
      return;
    }
    await this.catchUp();
  }

  /** Reads rows this replica has not applied from PostgreSQL. Returns how many were merged. */
  private async catchUp(): Promise<number> {
    const rows = await readOperations(this.deps.pool, this.id, this.appliedThrough);
    let merged = 0;
    for (const row of rows) {
      const order = Number(row.server_order);
      if (this.appliedAbove.has(order)) continue;
      this.applyCommitted(rowToEntry(row));
      this.markApplied(order, order);
      merged++;
    }
    return merged;
  }

  private applyCommitted(entry: LogEntry): void {
    this.replica.applyTrusted(entry);
    this.outbox.push(entry);
  }

  private markApplied(from: number, to: number): void {
    for (let o = from; o <= to; o++) {
      if (o === this.appliedThrough + 1) this.appliedThrough = o;
      else if (o > this.appliedThrough) this.appliedAbove.add(o);
    }
    while (this.appliedAbove.delete(this.appliedThrough + 1)) this.appliedThrough++;
  }

  /** FORBIDDEN unless `agent` was issued to `userId` for this document. */
  async requireAgent(userId: string, agent: string): Promise<void> {
    let owner = this.agents.get(agent);
    if (owner === undefined) {
      const res = await this.deps.pool.query<{ user_id: string }>('SELECT user_id FROM document_agents WHERE document_id = $1 AND agent = $2', [this.id, agent]);
      owner = res.rows[0]?.user_id;
      if (owner) this.agents.set(agent, owner);
    }
    if (owner !== userId) {
      throw new AppError(ErrorCode.FORBIDDEN, 'agent was not issued to you for this document (call joinDocument)', { field: 'agent' });
    }
  }

  private async loadAgentsOf(userId: string): Promise<void> {
    const res = await this.deps.pool.query<{ agent: string }>('SELECT agent FROM document_agents WHERE document_id = $1 AND user_id = $2', [this.id, userId]);
    for (const r of res.rows) this.agents.set(r.agent, userId);
  }
}
