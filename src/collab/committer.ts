import type pg from 'pg';
import type { Logger } from 'pino';
import type { LogEntry } from '../crdt/replica.js';
import { AppError, ErrorCode, isUnavailable } from '../errors.js';

/** One operation row to append to a document's log. */
export interface OpRow {
  agent: string;
  seqStart: number;
  seqEnd: number;
  entry: LogEntry;
  authorId: string;
  inserted: number;
  deleted: number;
}

/** Server orders given to one document's rows: firstOrder..lastOrder, in the order the rows were passed. */
export interface Committed {
  firstOrder: number;
  lastOrder: number;
}

interface Request {
  documentId: string;
  rows: OpRow[];
  resolve: (c: Committed) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit. Rows submitted while a transaction is in flight wait and go together in the next one,
 * so many documents' edits share one fsync. Server orders are assigned under a row lock on the
 * document, in commit order, so "every row above order N" is gap-free on every instance.
 */
export class Committer {
  private pending: Request[] = [];
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
    private readonly snapshotEvery: { ops: number; events: number },
  ) {}

  /** Appends rows to a document's log; resolves once they are committed. */
  commit(documentId: string, rows: OpRow[]): Promise<Committed> {
    return new Promise((resolve, reject) => {
      this.pending.push({ documentId, rows, resolve, reject });
      if (!this.flushing) this.flushing = this.drain();
    });
  }

  /** Resolves when nothing is waiting or in flight. */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        await this.flush(batch);
      }
    } finally {
      this.flushing = null;
    }
  }

  private async flush(batch: Request[]): Promise<void> {
    try {
      const results = await this.write(batch);
      batch.forEach((r, i) => {
        const c = results[i];
        if (c) r.resolve(c);
        else r.reject(new AppError(ErrorCode.NOT_FOUND, 'document not found'));
      });
    } catch (err) {
      if (batch.length > 1 && !isUnavailable(err)) {
        // One document's rows (a seq already taken on another instance, say) must not fail the others.
        for (const r of batch) await this.flush([r]);
        return;
      }
      const e = isUnavailable(err) ? new AppError(ErrorCode.UNAVAILABLE, 'the database is unavailable; retry the edit') : err;
      if (!isUnavailable(err)) this.log.error({ err, documents: batch.map((r) => r.documentId) }, 'operation commit failed');
      for (const r of batch) r.reject(e);
    }
  }

  private async write(batch: Request[]): Promise<(Committed | undefined)[]> {
    const perDoc = new Map<string, number>();
    for (const r of batch) perDoc.set(r.documentId, (perDoc.get(r.documentId) ?? 0) + r.rows.length);
    const ids = [...perDoc.keys()].sort();
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // Lock in id order: two instances committing the same documents never deadlock.
      const locked = await client.query<{ id: string; op_count: string; event_count: string }>(
        'SELECT id, op_count, event_count FROM documents WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE',
        [ids],
      );
      const next = new Map(locked.rows.map((r) => [r.id, Number(r.op_count)]));
      const start = new Map(next);
      const events = new Map(locked.rows.map((r) => [r.id, Number(r.event_count)]));
      const startEvents = new Map(events);
      const results: (Committed | undefined)[] = [];
      const cols: unknown[][] = [[], [], [], [], [], [], [], [], [], [], []];
      for (const r of batch) {
        const base = next.get(r.documentId);
        if (base === undefined) {
          results.push(undefined);
          continue;
        }
        results.push({ firstOrder: base + 1, lastOrder: base + r.rows.length });
        next.set(r.documentId, base + r.rows.length);
        r.rows.forEach((row, i) => {
          events.set(r.documentId, events.get(r.documentId)! + row.inserted + row.deleted);
          cols[0]!.push(r.documentId);
          cols[1]!.push(base + 1 + i);
          cols[2]!.push(row.agent);
          cols[3]!.push(row.seqStart);
          cols[4]!.push(row.seqEnd);
          const e = row.entry;
          cols[5]!.push(e.kind === 'ops' ? JSON.stringify(e.ops) : null);
          cols[6]!.push(e.kind === 'patch' ? Buffer.from(e.patch.buffer, e.patch.byteOffset, e.patch.byteLength) : null);
          cols[7]!.push(JSON.stringify(e.kind === 'ops' ? e.parents : []));
          cols[8]!.push(row.authorId);
          cols[9]!.push(row.inserted);
          cols[10]!.push(row.deleted);
        });
      }
      if (cols[0]!.length > 0) {
        const touched = [...next.keys()].filter((id) => next.get(id) !== start.get(id));
        await client.query(
          `UPDATE documents d SET op_count = v.n, event_count = v.e, updated_at = now()
             FROM unnest($1::uuid[], $2::bigint[], $3::bigint[]) AS v(id, n, e) WHERE d.id = v.id`,
          [touched, touched.map((id) => next.get(id)), touched.map((id) => events.get(id))],
        );
        await client.query(
          `INSERT INTO operations (document_id, server_order, agent, seq_start, seq_end, ops, patch, parents, author_id, inserted, deleted)
           SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::int[], $5::int[], $6::jsonb[], $7::bytea[], $8::jsonb[], $9::uuid[], $10::int[], $11::int[])`,
          cols,
        );
        const crossed = (now: number, before: number, every: number) => Math.floor(now / every) > Math.floor(before / every);
        const due = touched.filter(
          (id) =>
            crossed(next.get(id)!, start.get(id)!, this.snapshotEvery.ops) || crossed(events.get(id)!, startEvents.get(id)!, this.snapshotEvery.events),
        );
        if (due.length > 0) {
          // Queued in the same transaction: the snapshot job exists if and only if the rows do.
          await client.query(
            `SELECT graphile_worker.add_job('document__snapshot', json_build_object('documentId', id), job_key := 'document__snapshot:' || id, run_at := now() + interval '2 seconds')
               FROM unnest($1::uuid[]) AS id`,
            [due],
          );
        }
      }
      await client.query('COMMIT');
      return results;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}
