import type { Logger } from 'pino';
import { transformPositions } from '../crdt/cursor.js';
import type { Rebased } from '../crdt/feedProtocol.js';
import type { Frontier, Reads, Replica } from '../crdt/replica.js';
import { codePointLength } from '../crdt/text.js';
import type { RemoteVersion } from '../crdt/version.js';
import type { ChangeFeed } from './changeFeed.js';
import type { CollabObserver } from './observer.js';

/**
 * When a document's costly reads (Replica.read), length look-ups and cursor walks go to the
 * change-feed thread: once one here took longer than `ms` (0: all of them), or once
 * `concurrentEdits` edits were committed while its history had concurrent heads (0: not for that).
 * Under sustained concurrency these cost the whole concurrent history (measured: a checkout after
 * 500 edits by 16 writers that never see each other took 25 ms, after 4,000 455 ms, after 8,000
 * 4 s), so the first slow one is better not run here at all.
 */
export interface ReadOffload {
  ms: number;
  concurrentEdits: number;
}

export interface DocumentReadsDeps {
  documentId: string;
  replica: Replica;
  feed: ChangeFeed;
  /** The document's loaded copy at the change feed. */
  feedId: string;
  /** Gives the change feed its copy of the committed history, if it has none yet. */
  loadFeed(): void;
  /** True once the replica was lost: what is left of it is read here. */
  lost(): boolean;
  offload: ReadOffload;
  observer: CollabObserver;
  log: Logger;
}

/** How long a length learnt from the change-feed thread stands for the current version's, for cursors (ms). */
const KNOWN_FRESH_MS = 1_000;

/**
 * Where one resident document's costly reads run, here or on the change-feed thread (which holds
 * the same committed history), and the text lengths it has learnt from that thread, so that edits
 * and cursors at the versions clients hold need no checkout here.
 */
export class DocumentReads {
  /** A read here was slow, or the history is crowded: costly reads go to the change-feed thread. */
  private costly = false;
  /** Edits committed while the history had concurrent heads, until `costly`. */
  private concurrentEdits = 0;
  /** The newest version whose length was learnt from the change-feed thread (an event, a read), and when. */
  private known: { f: Frontier; at: number } | null = null;
  /** The current version's length being found for cursor updates. */
  private measuringCurrent: Promise<Frontier> | null = null;
  /** Lengths being found on the change-feed thread, by frontier. */
  private readonly measuring = new Map<string, Promise<number>>();

  constructor(private readonly d: DocumentReadsDeps) {}

  /** Whether costly reads and cursor walks go to the change-feed thread. */
  get offloading(): boolean {
    return this.costly || this.d.offload.ms === 0;
  }

  /** A costly read at a committed frontier, here or there. What is at hand is read here either way. */
  read<K extends keyof Reads>(what: K, f: Frontier): Promise<Reads[K]> | Reads[K] {
    const { replica } = this.d;
    const atHand = (what === 'text' && replica.hasTextAt(f)) || (what === 'length' && replica.hasLengthAt(f));
    if (this.d.lost() || atHand || !this.offloading) return this.timed(what, () => replica.read(what, f));
    if (what === 'length') return this.measure(f) as Promise<Reads[K]>;
    this.d.loadFeed();
    this.d.observer.offloaded(what);
    const read = this.d.feed.read(this.d.feedId, replica.toRemote(f), what);
    if (what !== 'text') return read;
    // Edits and cursors at this version need its length: keep it, so they need no checkout here.
    return read.then((text) => {
      this.learnt(f, codePointLength(text as string));
      return text;
    });
  }

  /** Cursor positions at `f` moved through every later edit here (a transform, timed like a read). */
  transformHere(f: Frontier, positions: number[]): number[] {
    return this.timed('rebase', () => transformPositions(positions, this.d.replica.changesSince(f)));
  }

  /** The same on the change-feed thread, through every edit committed and sent to it; null when it could not. */
  transformThere(f: Frontier, positions: number[]): Promise<Rebased | null> {
    this.d.loadFeed();
    this.d.observer.offloaded('rebase');
    return this.d.feed.rebase(this.d.feedId, this.d.replica.toRemote(f), positions).catch(() => null);
  }

  /** The length at the version of an event the change-feed thread sent out. */
  eventSent(version: RemoteVersion, length: number): void {
    if (this.d.lost()) return;
    try {
      this.learnt(this.d.replica.resolve(version, 'version'), length);
    } catch {
      // not known here (a replica being replaced): nothing to keep
    }
  }

  /**
   * Validating a positional edit takes the text's length at its parents. A client that edits from a
   * version it got in an event or a read (not one an edit of its returned) names a version whose
   * length may not be known here; on a crowded document finding it is a checkout as costly as a
   * transform, so it is asked of the change-feed thread first (the document's batch waits for it,
   * not the other documents).
   */
  async learnLengths(parents: RemoteVersion[], committed: Frontier): Promise<void> {
    const { replica } = this.d;
    const wanted = new Map<string, Frontier>();
    for (const p of parents) {
      let f: Frontier;
      try {
        f = replica.resolve(p, 'parents');
      } catch {
        continue; // the edit itself gets the error (or catches up first)
      }
      if (!replica.hasLengthAt(f) && replica.descends(committed, f)) wanted.set(f.join(','), f);
    }
    for (const f of wanted.values()) {
      try {
        await this.measure(f);
      } catch {
        // the feed could not say (restarted): the edit's validation finds it here
      }
    }
  }

  /**
   * The version a cursor sent without one refers to: the last committed one. On a document whose
   * reads are costly its length may be unknown here, and finding it is a checkout on the change-feed
   * thread, which waits behind that thread's transforms: a cursor update must neither cost one nor
   * wait for one. So the newest version whose length was learnt there stands for it (under a crowd,
   * what a client following the events has); when that is over a second old, one measurement of the
   * current version at a time runs meanwhile. Only with nothing learnt yet does an update wait for it.
   */
  currentForCursors(committed: Frontier): Frontier | Promise<Frontier> {
    if (!this.offloading || this.d.replica.hasLengthAt(committed)) return committed;
    if (this.known && performance.now() - this.known.at < KNOWN_FRESH_MS) return this.known.f;
    const measuring = (this.measuringCurrent ??= this.measure(committed)
      .then(() => committed)
      .finally(() => (this.measuringCurrent = null)));
    if (!this.known) return measuring;
    measuring.catch(() => undefined); // it only refreshes `known`; a failure leaves it as it was
    return this.known.f;
  }

  /** Edits were committed onto a history with `heads` heads: past `offload.concurrentEdits` such, reads go there. */
  committed(heads: number, edits: number): void {
    if (heads < 2 || this.costly) return;
    const threshold = this.d.offload.concurrentEdits;
    this.concurrentEdits += edits;
    if (threshold > 0 && this.concurrentEdits >= threshold) this.markCostly({ concurrentEdits: this.concurrentEdits });
  }

  private timed<T>(what: string, read: () => T): T {
    const started = performance.now();
    const result = read();
    const took = performance.now() - started;
    if (took > this.d.offload.ms) this.markCostly({ slowRead: what, ms: Math.round(took) });
    return result;
  }

  /** The length at `f`, found on the change-feed thread and kept; requests for the same one share it. */
  private measure(f: Frontier): Promise<number> {
    const key = f.join(',');
    const pending = this.measuring.get(key);
    if (pending) return pending;
    this.d.loadFeed();
    this.d.observer.offloaded('length');
    const measured = this.d.feed
      .read(this.d.feedId, this.d.replica.toRemote(f), 'length')
      .then((len) => {
        this.learnt(f, len);
        return len;
      })
      .finally(() => this.measuring.delete(key));
    this.measuring.set(key, measured);
    return measured;
  }

  /** Keeps a length the change-feed thread worked out, so edits and cursors at `f` need no checkout here. */
  private learnt(f: Frontier, length: number): void {
    if (this.d.lost()) return;
    this.d.replica.noteLength(f, length);
    if (!this.known || this.d.replica.descends(f, this.known.f)) this.known = { f, at: performance.now() };
  }

  /** From now on the document's costly reads go to the change-feed thread; said once, for operators. */
  private markCostly(why: Record<string, unknown>): void {
    if (this.costly) return;
    this.costly = true;
    this.d.log.info({ documentId: this.d.documentId, ...why }, 'document reads moved to the change-feed thread');
  }
}
