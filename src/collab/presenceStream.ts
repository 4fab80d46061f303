import type { PresenceEvent } from './presenceTypes.js';

/**
 * One documentPresence subscriber's queue. Presence is state, not a log, so nothing is queued: an
 * event goes straight to a consumer that is waiting for it; one that is not (it is still sending the
 * previous event, or reads slowly) is marked behind, and its next event is the full list of who is
 * present, as it is then. That list is built once per document and shared by every subscriber that
 * fell behind, so a crowd of slow readers costs no more than one.
 */
export class PresenceStream implements AsyncIterableIterator<PresenceEvent> {
  /** Starts behind: the first event is the full list. */
  private behind = true;
  private waiter: ((r: IteratorResult<PresenceEvent>) => void) | null = null;
  private done = false;

  constructor(
    readonly documentId: string,
    /** The agent this subscription keeps present while it is open (null: a watcher only). */
    readonly agent: string | null,
    /** Everyone present now, as one event marked `full`. */
    private readonly snapshot: () => PresenceEvent,
    public onClose: (s: PresenceStream) => void = () => undefined,
  ) {}

  get closed(): boolean {
    return this.done;
  }

  push(event: PresenceEvent): void {
    if (this.done) return;
    if (this.waiter && !this.behind) {
      const w = this.waiter;
      this.waiter = null;
      w({ value: event, done: false });
      return;
    }
    this.behind = true;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      this.behind = false;
      w({ value: this.snapshot(), done: false });
    }
  }

  async next(): Promise<IteratorResult<PresenceEvent>> {
    if (this.done) return { value: undefined, done: true };
    if (this.behind) {
      this.behind = false;
      return { value: this.snapshot(), done: false };
    }
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  async return(): Promise<IteratorResult<PresenceEvent>> {
    if (!this.done) {
      this.done = true;
      const w = this.waiter;
      this.waiter = null;
      w?.({ value: undefined, done: true });
      this.onClose(this);
    }
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<PresenceEvent> {
    return this;
  }
}
