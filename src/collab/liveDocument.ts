import type pg from 'pg';
import type { Logger } from 'pino';
import { EngineFailure, Replica, UnknownVersionError, type EditResult, type Frontier, type ReplicaLimits, type TextOp } from '../crdt/replica.js';
import { codePointLength } from '../crdt/text.js';
import type { RemoteVersion } from '../crdt/version.js';
import { AppError, ErrorCode } from '../errors.js';
import { ChangeStream, type DocChange } from './changeStream.js';
import type { Committer, OpRow } from './committer.js';
import { readReplica } from './storage.js';

export interface LiveDocumentDeps {
  pool: pg.Pool;
  committer: Committer;
  limits: ReplicaLimits;
  log: Logger;
  /** Called after a batch of rows committed, to tell other instances. Never throws. */
  announce(documentId: string, fromOrder: number, toOrder: number, patches: Uint8Array[]): void;
  /** Called when the replica is lost (engine failure, failed commit): the manager reloads it. */
  onLost(doc: LiveDocument, reason: unknown): void;
}

export interface DocumentMeta {
  id: string;
  ownerId: string;
  title: string;
  createdAt: Date;
  updatedAt: Date;
}

type Work =
  | { kind: 'edit'; userId: string; agent: string; seq: number; parents: RemoteVersion; ops: TextOp[]; resolve: (r: EditResult) => void; reject: (e: unknown) => void }
  | { kind: 'patch'; userId: string; bytes: Uint8Array; resolve: (r: EditResult) => void; reject: (e: unknown) => void }
  | { kind: 'remote'; fromOrder: number; toOrder: number; patches: Uint8Array[] }
  | { kind: 'attach'; stream: ChangeStream; resolve: () => void; reject: (e: unknown) => void };

/**
 * A resident document: its replica, the edits waiting for it, and its subscribers. Work is processed
 * one batch at a time: validate and apply every waiting edit, commit their rows together, then answer
 * the writers, emit one event to subscribers, and announce the rows to other instances. The replica
 * holds nothing uncommitted between batches, so events and reads only ever show durable text.
 */
export class LiveDocument {
  private queue: Work[] = [];
  private running: Promise<void> | null = null;
  private readonly agents = new Map<string, string>();
  private readonly streams = new Set<ChangeStream>();
  private appliedThrough: number;
  private readonly appliedAbove = new Set<number>();
  /** Everything in the replica is committed up to here (the replica may run ahead during a commit). */
  private committed: Frontier;
  /** The version the subscribers' event log has reached. */
  private emitted: Frontier;
  private emittedLength: number;
  private pendingAgents = new Set<string>();
  private lost = false;
  lastActive = Date.now();

  private constructor(
    readonly meta: DocumentMeta,
    private readonly replica: Replica,
    appliedThrough: number,
    agents: [string, string][],
    private readonly deps: LiveDocumentDeps,
  ) {
    this.appliedThrough = appliedThrough;
    for (const [a, u] of agents) this.agents.set(a, u);
    this.committed = replica.frontier();
    this.emitted = this.committed;
    this.emittedLength = replica.lengthAt(this.committed);
  }

  /** Loads a document from its newest snapshot plus the operation rows after it. Null when missing. */
  static async load(id: string, deps: LiveDocumentDeps): Promise<LiveDocument | null> {
    const { pool } = deps;
    const docRes = await pool.query<{ id: string; owner_id: string; title: string; created_at: Date; updated_at: Date }>(
      'SELECT id, owner_id, title, created_at, updated_at FROM documents WHERE id = $1',
      [id],
    );
    const row = docRes.rows[0];
    if (!row) return null;
    const [{ through, replica }, agents] = await Promise.all([
      readReplica(pool, id),
      pool.query<{ agent: string; user_id: string }>('SELECT agent, user_id FROM document_agents WHERE document_id = $1', [id]),
    ]);
    const meta = { id: row.id, ownerId: row.owner_id, title: row.title, createdAt: row.created_at, updatedAt: row.updated_at };
    return new LiveDocument(meta, replica, through, agents.rows.map((a) => [a.agent, a.user_id]), deps);
  }

  get id(): string {
    return this.meta.id;
  }

  /** Text at the last committed version. */
  content(): string {
    this.touch();
    return this.replica.textAt(this.committed);
  }

  /** Length in code points at the last committed version. */
  length(): number {
    return this.replica.lengthAt(this.committed);
  }

  /** The last committed version. */
  version(): RemoteVersion {
    return this.replica.toRemote(this.committed);
  }

  /** Content and version read together, from the same committed point. */
  snapshot(): { content: string; version: RemoteVersion } {
    return { content: this.content(), version: this.version() };
  }

  /** Records an agent issued to a user (joinDocument on this instance). */
  noteAgent(agent: string, userId: string): void {
    this.agents.set(agent, userId);
  }

  get subscriberCount(): number {
    return this.streams.size;
  }

  get isLost(): boolean {
    return this.lost;
  }

  /** True when the document can be evicted: nothing queued, running or subscribed, idle long enough. */
  isIdle(now: number, idleMs: number): boolean {
    return !this.running && this.queue.length === 0 && this.streams.size === 0 && now - this.lastActive >= idleMs;
  }

  /** Applies a positional edit; resolves once its operations are committed. */
  async edit(userId: string, agent: string, seq: number, parents: RemoteVersion, ops: TextOp[]): Promise<EditResult> {
    await this.requireAgent(userId, agent);
    return new Promise((resolve, reject) => this.enqueue({ kind: 'edit', userId, agent, seq, parents, ops, resolve, reject }));
  }

  /** Merges a patch of the caller's operations; resolves once they are committed. */
  async patch(userId: string, bytes: Uint8Array): Promise<EditResult> {
    await this.loadAgentsOf(userId);
    return new Promise((resolve, reject) => this.enqueue({ kind: 'patch', userId, bytes, resolve, reject }));
  }

  /** Rows committed elsewhere (another instance), announced over the bus. */
  remote(fromOrder: number, toOrder: number, patches: Uint8Array[]): void {
    if (toOrder <= this.appliedThrough) return;
    this.enqueue({ kind: 'remote', fromOrder, toOrder, patches });
  }

  /**
   * Opens a change stream from `since` (null: from the current version). The stream first gets one
   * event taking `since` to the current version, then every later event, with no gap.
   */
  async subscribe(userId: string, since: RemoteVersion | null): Promise<ChangeStream> {
    const stream = new ChangeStream(userId, since);
    await new Promise<void>((resolve, reject) => this.enqueue({ kind: 'attach', stream, resolve, reject }));
    return stream;
  }

  /** Streams to move to a reloaded replica after this one was lost. */
  detachStreams(): ChangeStream[] {
    const list = [...this.streams];
    this.streams.clear();
    return list;
  }

  /** Attaches a stream carried over from a lost replica, resuming at its last queued version. */
  async adopt(stream: ChangeStream): Promise<void> {
    await new Promise<void>((resolve, reject) => this.enqueue({ kind: 'attach', stream, resolve, reject }));
  }

  /** Ends every stream with an error (the document was deleted, the server is stopping...). */
  endStreams(err?: unknown): void {
    for (const s of [...this.streams]) {
      if (err) s.fail(err);
      else void s.return();
    }
    this.streams.clear();
  }

  /** Resolves when all queued work is done. */
  async drain(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Frees the replica. The document must not be used afterwards. */
  dispose(): void {
    this.lost = true;
    const err = new AppError(ErrorCode.UNAVAILABLE, 'document was unloaded; retry');
    for (const w of this.queue.splice(0)) if (w.kind !== 'remote') w.reject(err);
    this.replica.free();
  }

  /** A full oplog and text at the committed version: what a snapshot stores. */
  snapshotBytes(): { appliedThrough: number; oplog: Uint8Array; content: string; version: RemoteVersion } | null {
    if (this.running || this.queue.length > 0 || this.appliedAbove.size > 0) return null;
    return { appliedThrough: this.appliedThrough, oplog: this.replica.toBytes(), content: this.content(), version: this.version() };
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

  private fail(batch: Work[], err: unknown): void {
    const clientErr = err instanceof AppError ? err : new AppError(ErrorCode.UNAVAILABLE, 'the edit could not be applied; retry');
    for (const w of batch) if (w.kind !== 'remote') w.reject(clientErr);
    if (!this.lost) {
      this.lost = true;
      for (const w of this.queue.splice(0)) if (w.kind !== 'remote') w.reject(clientErr);
      this.deps.onLost(this, err);
    }
  }

  private async process(batch: Work[]): Promise<void> {
    // Rows committed elsewhere come first: they are durable already.
    for (const w of batch) if (w.kind === 'remote') await this.mergeRemote(w);

    const accepted: { w: Extract<Work, { kind: 'edit' | 'patch' }>; result: EditResult }[] = [];
    const rows: OpRow[] = [];
    for (const w of batch) {
      if (w.kind !== 'edit' && w.kind !== 'patch') continue;
      try {
        const result = await this.applyWithCatchUp(w);
        accepted.push({ w, result });
        if (!result.duplicate) {
          for (const a of result.runs) this.pendingAgents.add(a.agent);
          rows.push(this.rowFor(w, result));
        }
      } catch (err) {
        if (err instanceof EngineFailure) throw err;
        w.reject(err);
      }
    }

    if (rows.length > 0) {
      let committed;
      try {
        committed = await this.deps.committer.commit(this.id, rows);
      } catch (err) {
        // The replica holds operations that are not durable: it must be rebuilt from storage.
        for (const a of accepted) a.w.reject(err);
        this.fail([], err);
        return;
      }
      this.markApplied(committed.firstOrder, committed.lastOrder);
      this.meta.updatedAt = new Date();
      this.committed = this.replica.frontier();
      for (const a of accepted) a.w.resolve(a.result);
      this.deps.announce(this.id, committed.firstOrder, committed.lastOrder, rows.map((r) => r.patch));
    } else {
      this.committed = this.replica.frontier();
      for (const a of accepted) a.w.resolve(a.result);
    }

    this.emit();
    for (const w of batch) if (w.kind === 'attach') this.attach(w);
  }

  private rowFor(w: Extract<Work, { kind: 'edit' | 'patch' }>, r: EditResult): OpRow {
    const first = r.runs[0];
    const last = r.runs[r.runs.length - 1];
    const single = r.runs.every((x) => x.agent === first?.agent);
    return {
      agent: first?.agent ?? '',
      seqStart: first?.seqStart ?? 0,
      seqEnd: single ? (last?.seqEnd ?? 0) : (first?.seqEnd ?? 0),
      patch: r.patch,
      parents: w.kind === 'edit' ? w.parents : [],
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
        // A version from another instance may not have reached us yet: read the log, then try again.
        if (err instanceof UnknownVersionError && attempt === 0 && (await this.catchUp()) > 0) continue;
        throw err;
      }
    }
  }

  private async mergeRemote(w: Extract<Work, { kind: 'remote' }>): Promise<void> {
    if (w.toOrder <= this.appliedThrough) return;
    if (w.fromOrder === this.appliedThrough + 1 && w.patches.length === w.toOrder - w.fromOrder + 1) {
      for (const p of w.patches) this.mergeTrustedCounting(p);
      this.markApplied(w.fromOrder, w.toOrder);
      return;
    }
    await this.catchUp();
  }

  /** Reads rows this replica has not applied from PostgreSQL. Returns how many were merged. */
  private async catchUp(): Promise<number> {
    const res = await this.deps.pool.query<{ server_order: string; patch: Buffer }>(
      'SELECT server_order, patch FROM operations WHERE document_id = $1 AND server_order > $2 ORDER BY server_order',
      [this.id, this.appliedThrough],
    );
    let merged = 0;
    for (const row of res.rows) {
      const order = Number(row.server_order);
      if (this.appliedAbove.has(order)) continue;
      this.mergeTrustedCounting(row.patch);
      this.markApplied(order, order);
      merged++;
    }
    return merged;
  }

  private mergeTrustedCounting(patch: Uint8Array): void {
    const { agents } = this.replica.mergeTrusted(patch);
    for (const a of agents) this.pendingAgents.add(a);
  }

  private markApplied(from: number, to: number): void {
    for (let o = from; o <= to; o++) {
      if (o === this.appliedThrough + 1) this.appliedThrough = o;
      else if (o > this.appliedThrough) this.appliedAbove.add(o);
    }
    while (this.appliedAbove.delete(this.appliedThrough + 1)) this.appliedThrough++;
  }

  /** Sends subscribers one event taking them from the emitted version to the committed one. */
  private emit(): void {
    if (this.replica.descends(this.emitted, this.committed)) return;
    if (this.streams.size === 0) {
      this.emitted = this.committed;
      this.emittedLength = -1;
      this.pendingAgents.clear();
      return;
    }
    const ops = this.replica.changesSince(this.emitted);
    const patch = Buffer.from(this.replica.patchSince(this.emitted)).toString('base64');
    if (this.emittedLength >= 0) {
      let len = this.emittedLength;
      for (const op of ops) len += op.kind === 'insert' ? codePointLength(op.text) : -op.len;
      this.emittedLength = len;
      this.replica.noteLength(this.committed, len);
    }
    this.emitted = this.committed;
    const change: DocChange = { documentId: this.id, version: this.replica.toRemote(this.committed), ops, patch, agents: [...this.pendingAgents] };
    this.pendingAgents.clear();
    for (const s of this.streams) s.push(change);
  }

  private attach(w: Extract<Work, { kind: 'attach' }>): void {
    const { stream } = w;
    if (stream.closed) return w.resolve();
    try {
      const start = stream.lastVersion;
      if (start !== null) {
        const from = this.replica.resolve(start, 'since');
        if (!this.replica.descends(from, this.emitted)) {
          const ops = this.replica.changesSince(from);
          const patch = Buffer.from(this.replica.patchSince(from)).toString('base64');
          const agents = this.replica.agentsSince(from);
          stream.push({ documentId: this.id, version: this.replica.toRemote(this.emitted), ops, patch, agents });
        }
      }
      if (this.emittedLength < 0) this.emittedLength = this.replica.lengthAt(this.emitted);
      stream.onClose = (s) => this.streams.delete(s);
      this.streams.add(stream);
      w.resolve();
    } catch (err) {
      w.reject(err);
    }
  }

  private async requireAgent(userId: string, agent: string): Promise<void> {
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
