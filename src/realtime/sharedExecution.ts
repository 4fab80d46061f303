import { Kind, createSourceEventStream, execute, visit, type ASTNode, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { ATTACH_SINK, isPushable, withPush } from '../pushable.js';

/** Results already computed for an event, by operation text and the variables its selection uses. */
const results = new WeakMap<object, Map<string, unknown>>();

/** The `data` of every shared result, with its JSON once someone asked for it. */
const sharedData = new WeakMap<object, string | null>();

const markShared = (r: ExecutionResult): ExecutionResult => {
  if (r.data && !r.errors) sharedData.set(r.data, null);
  return r;
};

/** The JSON of a shared result's `data`, serialised once for all its subscribers; null if `data` is not shared. */
export function sharedJson(data: object): string | null {
  const json = sharedData.get(data);
  if (json !== null) return json ?? null;
  const made = JSON.stringify(data);
  sharedData.set(data, made);
  return made;
}

/** Variables used below the subscription's root field: the only ones an event's result depends on. */
const selectionVariables = new WeakMap<DocumentNode, string[]>();

function variablesOfSelection(doc: DocumentNode): string[] {
  let names = selectionVariables.get(doc);
  if (!names) {
    const found = new Set<string>();
    const collect = (node: ASTNode) => visit(node, { Variable: (v) => void found.add(v.name.value) });
    for (const def of doc.definitions) {
      // Fragments may be spread into the selection: their variables count.
      if (def.kind === Kind.FRAGMENT_DEFINITION) collect(def);
      if (def.kind !== Kind.OPERATION_DEFINITION) continue;
      for (const sel of def.selectionSet.selections) {
        if (sel.kind !== Kind.FIELD) collect(sel);
        else {
          if (sel.selectionSet) collect(sel.selectionSet);
          for (const d of sel.directives ?? []) collect(d);
        }
      }
    }
    names = [...found].sort();
    selectionVariables.set(doc, names);
  }
  return names;
}

/**
 * Subscribers share an event's result when they ran the same operation with the same values for
 * the variables its selection uses. The root field's own arguments (document id, agent) only choose
 * the event stream, so they do not split the sharing.
 */
function keyOf(args: ExecutionArgs): string {
  const doc = args.document as DocumentNode;
  const vars = args.variableValues ?? {};
  const used = variablesOfSelection(doc).map((n) => vars[n]);
  return `${args.operationName ?? ''}\u0000${doc.loc?.source.body ?? ''}\u0000${JSON.stringify(used)}`;
}

/**
 * Subscribes like graphql-js (createSourceEventStream, then graphql-js execute per event, as its own
 * subscribe does), except that an event delivered to many subscribers with the same
 * operation is executed once and the result shared: 1,000 watchers of a document cost one execution
 * per event, not 1,000. Only for fields whose event results do not depend on the subscriber (their
 * resolvers ignore the context and the root field's arguments); errors delivered as events are
 * per-subscriber objects and so never shared.
 */
export async function subscribeShared(
  args: ExecutionArgs,
  normalize: (result: ExecutionResult) => ExecutionResult,
): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);

  if (!(Symbol.asyncIterator in (source as object))) return source as ExecutionResult;
  const events = source as AsyncIterableIterator<unknown>;
  const key = keyOf(args);
  const run = (event: unknown): ExecutionResult | Promise<ExecutionResult> => {
    const r = execute({ ...args, rootValue: event });
    return r instanceof Promise ? r.then(normalize) : normalize(r as ExecutionResult);
  };
  const map = (event: unknown): ExecutionResult | Promise<ExecutionResult> => {
    if (!event || typeof event !== 'object') return run(event);
    let perEvent = results.get(event);
    if (!perEvent) results.set(event, (perEvent = new Map()));
    let shared = perEvent.get(key) as ExecutionResult | Promise<ExecutionResult> | undefined;
    if (shared === undefined) {
      const r = run(event);
      perEvent.set(key, (shared = r instanceof Promise ? r.then(markShared) : markShared(r)));
    }
    return shared;
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
  // Pushed events are executed (or their shared result found) on the way; one whose execution is
  // asynchronous is refused, and taken through next() instead.
  if (isPushable(events)) {
    return withPush(iterator, (sink, wake) =>
      events[ATTACH_SINK]((event) => {
        const v = map(event);
        return !(v instanceof Promise) && sink(v);
      }, wake),
    );
  }
  return iterator;
}
