import type { StreamFailure } from '../collab/changeStream.js';
import type { RequestContext } from '../context.js';
import { ATTACH_SINK, isPushable, withPush, type Sink } from '../pushable.js';
import { accessOf, requireViewer } from './access.js';

/**
 * Wraps a document subscription's event stream so it ends when its user loses access to the
 * document (revoked, downgraded, document deleted) or its credential is revoked, on any instance:
 * the source is closed (its queued events are dropped) and the subscriber gets the error as its
 * last event.
 */
export async function guardSubscription<T extends object>(ctx: RequestContext, documentId: string, source: AsyncIterableIterator<T>): Promise<AsyncIterableIterator<T | StreamFailure>> {
  const viewer = requireViewer(ctx);
  const { role } = await accessOf(ctx, documentId);
  let ended: StreamFailure | null = null;
  let finished = false;
  const unwatch = ctx.services.access.watch({
    documentId,
    userId: viewer.userId,
    credentialId: viewer.credential.id,
    role: role!,
    end: (error) => {
      if (ended || finished) return;
      ended = { failure: error };
      void source.return?.();
    },
  });
  const finish = () => {
    finished = true;
    unwatch();
  };
  const guarded: AsyncIterableIterator<T | StreamFailure> = {
    async next(): Promise<IteratorResult<T | StreamFailure>> {
      if (finished) return { value: undefined, done: true };
      const r = ended ? null : await source.next();
      if (ended) {
        finish();
        return { value: ended, done: false };
      }
      if (r!.done) finish();
      return r!;
    },
    async return(): Promise<IteratorResult<T | StreamFailure>> {
      finish();
      await source.return?.();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return guarded;
    },
  };
  // Pushed events pass as they are: an end closes the source, which wakes the consumer to take it.
  if (isPushable(source)) {
    return withPush(guarded, (sink: Sink<T | StreamFailure>, wake) => {
      if (finished || ended) wake();
      else source[ATTACH_SINK](sink, wake);
    });
  }
  return guarded;
}
