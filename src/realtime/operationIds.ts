/**
 * One connection's graphql-ws messages, held back where graphql-ws would mistake one operation for
 * another.
 *
 * graphql-ws keeps a connection's operations by id. When the client completes an operation while
 * the server is still setting it up and then subscribes again with the same id, the first setup,
 * once done, finds the id taken (by the second) and takes it for its own: both then deliver under
 * that id (the client sees every event twice), and when the socket closes only one of them is ended.
 * The other stays subscribed for good, holding its document resident. So a subscribe whose id
 * belongs to an operation the client has completed but whose handler has not finished waits for
 * that handler, and so does everything after it with that id. Everything else passes at once.
 */
export class OperationIds {
  /** Handlers of subscribe messages still running, by id, and whether the client completed them. */
  private readonly running = new Map<string, { done: Promise<void>; completed: boolean }>();
  /** Ids whose messages wait, in order, behind an earlier operation's handler. */
  private readonly waiting = new Map<string, Promise<void>>();

  constructor(
    /** Hands a message to graphql-ws; resolves when its handler has finished. */
    private readonly handle: (text: string) => Promise<void>,
    /** Whether the connection is still open (a held message is dropped once it is not). */
    private readonly open: () => boolean,
  ) {}

  receive(text: string): void {
    const m = peek(text);
    if (!m) return void this.handle(text);
    const queue = this.waiting.get(m.id);
    if (queue) {
      this.wait(m, queue, text);
      return;
    }
    this.dispatch(m, text);
  }

  private dispatch(m: { type: string; id: string }, text: string): void {
    const earlier = this.running.get(m.id);
    if (m.type === 'complete' && earlier) earlier.completed = true;
    if (m.type === 'subscribe' && earlier?.completed) {
      this.wait(m, earlier.done, text);
      return;
    }
    const done = this.handle(text);
    if (m.type !== 'subscribe') return;
    const entry = { done, completed: false };
    this.running.set(m.id, entry);
    void done.finally(() => {
      if (this.running.get(m.id) === entry) this.running.delete(m.id);
    });
  }

  private wait(m: { type: string; id: string }, behind: Promise<void>, text: string): void {
    const queued = behind.then(() => {
      if (this.waiting.get(m.id) === queued) this.waiting.delete(m.id);
      if (this.open()) this.dispatch(m, text);
    });
    this.waiting.set(m.id, queued);
  }
}

/** The type and id of a message that has both; null for anything else (graphql-ws judges those). */
function peek(text: string): { type: string; id: string } | null {
  try {
    const m = JSON.parse(text) as { type?: unknown; id?: unknown } | null;
    return m && typeof m.type === 'string' && typeof m.id === 'string' ? { type: m.type, id: m.id } : null;
  } catch {
    return null;
  }
}
