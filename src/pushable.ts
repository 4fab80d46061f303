/**
 * A fast path for the async iterators that carry subscription events. Through `next()` each event
 * costs every subscriber a chain of promises, one per layer (stream, access guard, execution,
 * delivery); with a thousand watchers of one document that is most of an event's cost. A consumer
 * may instead attach a sink that each layer wraps with its own step, and events then go from the
 * stream to the socket in one synchronous call per subscriber.
 */
export const ATTACH_SINK = Symbol('cowrite.attachSink');

/** Takes an item synchronously, or returns false to refuse it: it then stays first in line for `next()`. */
export type Sink<T> = (item: T) => boolean;

export interface Pushable<T> extends AsyncIterableIterator<T> {
  /**
   * Hands `sink` every item already waiting, then each new one as it arrives, until the sink
   * refuses one or the source ends or fails (the end and the failure are taken through `next()`).
   * The sink is then detached and `wake` called, once. A consumer does not call `next()` while its
   * sink is attached.
   */
  [ATTACH_SINK](sink: Sink<T>, wake: () => void): void;
}

export const isPushable = <T>(it: AsyncIterator<T>): it is Pushable<T> => ATTACH_SINK in it;

/** `it` with a push path (`attach`) added: for an iterator that wraps a pushable source. */
export function withPush<T>(it: AsyncIterableIterator<T>, attach: (sink: Sink<T>, wake: () => void) => void): Pushable<T> {
  return Object.assign(it, { [ATTACH_SINK]: attach });
}
