/**
 * What the collab layer reports as it works, for metrics. Every method is called on the hot path:
 * it must be cheap and must not throw.
 */
export interface CollabObserver {
  /** A group commit wrote `rows` operation rows in `seconds`. */
  committed(rows: number, seconds: number): void;
  /** A group commit failed (its writers were told to retry). */
  commitFailed(): void;
  /** A document was loaded from storage in `seconds`. */
  loaded(seconds: number): void;
  /** A resident replica was replaced from storage: its engine failed, or a commit did. */
  reloaded(cause: 'engine' | 'storage'): void;
  /** A costly read (Replica.read, by name) or a cursor rebase was sent to the change-feed thread. */
  offloaded(what: string): void;
  /** A client's patch passed every check yet crashed the engine on its scratch copy (refused). */
  patchCrashedEngine(): void;
}

export const noObserver: CollabObserver = {
  committed: () => undefined,
  commitFailed: () => undefined,
  loaded: () => undefined,
  reloaded: () => undefined,
  offloaded: () => undefined,
  patchCrashedEngine: () => undefined,
};
