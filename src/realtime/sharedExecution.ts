import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';

/** Results already computed for an event, by operation text and variables. */
const results = new WeakMap<object, Map<string, unknown>>();

function keyOf(args: ExecutionArgs): string {
  const doc = args.document as DocumentNode;
  return `${args.operationName ?? ''}\u0000${doc.loc?.source.body ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`;
}

/**
 * Subscribes like graphql-js (createSourceEventStream, then graphql-js execute per event, as its own
 * subscribe does), except that an event delivered to many subscribers with the same
 * operation and variables is executed once and the result shared: 1,000 watchers of a document cost
 * one execution per event, not 1,000. Only for fields whose event results do not depend on the
 * subscriber (their resolvers ignore the context); errors delivered as events are per-subscriber
 * objects and so never shared.
 */
export async function subscribeShared(
  args: ExecutionArgs,
  normalize: (result: ExecutionResult) => ExecutionResult,
): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);

  if (!(Symbol.asyncIterator in (source as object))) return source as ExecutionResult;
  const events = source as AsyncIterableIterator<unknown>;
  const key = keyOf(args);
  const map = (event: unknown) => {
    const run = () => {
      const r = execute({ ...args, rootValue: event });
      return r instanceof Promise ? r.then(normalize) : normalize(r as ExecutionResult);
    };
    if (!event || typeof event !== 'object') return run();
    let perEvent = results.get(event);
    if (!perEvent) results.set(event, (perEvent = new Map()));
    if (!perEvent.has(key)) perEvent.set(key, run());
    return perEvent.get(key);
  };
  const iterator: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      const r = await events.next();
      if (r.done) return { value: undefined, done: true };
      const v = map(r.value);
      return { value: (v instanceof Promise ? await v : v) as ExecutionResult, done: false };
    },
    async return() {
      await events.return?.();
      return { value: undefined, done: true };
    },
    async throw(e?: unknown) {
      await events.return?.();
      throw e;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return iterator;
}
