import type { FeedChange } from '../crdt/feedProtocol.js';
import type { RemoteVersion } from '../crdt/version.js';
import { AppError, ErrorCode } from '../errors.js';
import { ATTACH_SINK, type Pushable, type Sink } from '../pushable.js';

/** One event of a document's change log, as `documentChanges` delivers it. */
export type DocChange = FeedChange;

/** Delivered in place of an event when the stream ends with an error: the resolver raises it. */
export interface StreamFailure {
  failure: unknown;
}

export const isStreamFailure = (v: DocChange | StreamFailure): v is StreamFailure => 'failure' in v;

/** How much one subscriber may have queued and not yet taken before it is told to resume. */
export interface StreamBounds {
  /** Most undelivered events. */
  events: number;
  /** Most undelivered bytes (an estimate: inserted text, patch and framing). */
  bytes: number;
}

export const DEFAULT_STREAM_BOUNDS: StreamBounds = { events: 2_000, bytes: 8 * 1024 * 1024 };

/** A cheap size estimate of an event as it will be sent. */
function sizeOf(change: DocChange): number {
  let n = 128 + change.patch.length;
  for (const op of change.ops) n += 32 + ('text' in op ? op.text.length * 2 : 0);
  return n;
}

/**
 * Hands an event to a sink. One that throws has refused it: the event stays for next(), where the
 * failure is this subscriber's alone, not that of the others the same push goes on to.
 */
function offer(sink: Sink<DocChange | StreamFailure>, change: DocChange): boolean {
  try {
    return sink(change);
  } catch {
    return false;
  }
}

/**
 * A subscriber's ordered, bounded event queue, consumed as an async iterator. A consumer that falls
 * too far behind gets an UNAVAILABLE error naming the last version it received, so it can resume.
 */
export class ChangeStream implements Pushable<DocChange | StreamFailure> {
  private readonly buffer: DocChange[] = [];
  private bufferedBytes = 0;
  private waiter: ((r: IteratorResult<DocChange | StreamFailure>) => void) | null = null;
  private sink: Sink<DocChange | StreamFailure> | null = null;
  private wakeSink: (() => void) | null = null;
  private error: unknown = null;
  private done = false;
  /** The version of the last event queued for the consumer. */
  lastVersion: RemoteVersion | null;
  /** The version of the last event the consumer took: where a resume must start. */
  lastDelivered: RemoteVersion | null;

  constructor(
    readonly userId: string,
    since: RemoteVersion | null,
    /** Whether the subscriber selected `patch` (computing it costs a history walk). */
    readonly wantsPatch = true,
    private readonly bounds: StreamBounds = DEFAULT_STREAM_BOUNDS,
    /** Removes the stream from whichever document it is attached to. */
    public onClose: (s: ChangeStream) => void = () => undefined,
  ) {
    this.lastVersion = since;
    this.lastDelivered = since;
  }

  push(change: DocChange): void {
    if (this.done || this.error !== null) return;
    this.lastVersion = change.version;
    let refused = false;
    if (this.sink && this.buffer.length === 0) {
      if (offer(this.sink, change)) {
        this.lastDelivered = change.version;
        return;
      }
      refused = true;
    }
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      this.lastDelivered = change.version;
      w({ value: change, done: false });
      return;
    }
    const size = sizeOf(change);
    // (One event alone always fits: a catch-up from an old `since` may be large.)
    if (this.buffer.length >= this.bounds.events || (this.buffer.length > 0 && this.bufferedBytes + size > this.bounds.bytes)) {
      // The consumer stopped reading (or reads slower than the document changes): drop what it has
      // not taken, so its memory is bounded, and tell it where to resume.
      this.buffer.length = 0;
      this.bufferedBytes = 0;
      this.fail(new AppError(ErrorCode.UNAVAILABLE, 'subscriber fell too far behind; resubscribe with since = the last version received', { resumeFrom: this.lastDelivered }));
      return;
    }
    this.buffer.push(change);
    this.bufferedBytes += size;
    if (refused) this.detachSink();
  }

  [ATTACH_SINK](sink: Sink<DocChange | StreamFailure>, wake: () => void): void {
    if (this.sink) throw new Error('a sink is attached already');
    this.sink = sink;
    this.wakeSink = wake;
    while (this.buffer.length > 0 && this.sink === sink) {
      const head = this.buffer[0]!;
      if (!offer(sink, head)) return this.detachSink();
      if (this.buffer[0] !== head) continue; // (the sink ended the stream)
      this.buffer.shift();
      this.bufferedBytes = this.buffer.length === 0 ? 0 : this.bufferedBytes - sizeOf(head);
      this.lastDelivered = head.version;
    }
    if (this.error !== null || this.done) this.detachSink();
  }

  private detachSink(): void {
    const wake = this.wakeSink;
    this.sink = null;
    this.wakeSink = null;
    wake?.();
  }

  /** Ends the stream with an error after the events already buffered. */
  fail(err: unknown): void {
    if (this.done || this.error !== null) return;
    this.error = err;
    if (this.sink) this.detachSink();
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      this.error = null;
      this.finish();
      w({ value: { failure: err }, done: false });
    }
  }

  /** Events queued and not yet taken by the consumer. */
  get pending(): number {
    return this.buffer.length;
  }

  get closed(): boolean {
    return this.done;
  }

  async next(): Promise<IteratorResult<DocChange | StreamFailure>> {
    const head = this.buffer.shift();
    if (head) {
      this.bufferedBytes = this.buffer.length === 0 ? 0 : this.bufferedBytes - sizeOf(head);
      this.lastDelivered = head.version;
      return { value: head, done: false };
    }
    if (this.error) {
      const failure = this.error;
      this.error = null;
      this.finish();
      return { value: { failure }, done: false };
    }
    if (this.done) return { value: undefined, done: true };
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  async return(): Promise<IteratorResult<DocChange | StreamFailure>> {
    this.finish();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<DocChange | StreamFailure> {
    return this;
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.buffer.length = 0;
    this.bufferedBytes = 0;
    if (this.sink) this.detachSink();
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w({ value: undefined, done: true });
    }
    this.onClose(this);
  }
}
