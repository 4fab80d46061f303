import { execute, getOperationAST, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';

/** What we know of one parsed document (Yoga's parser cache hands the same object back for the same text). */
interface Seen {
  /** Executions so far, per operation name ('' for the only one). */
  runs: Map<string, number>;
  /** The compiled operation, per operation name; null when it could not be compiled. */
  compiled: Map<string, CompiledQuery | null>;
}

/**
 * Runs queries and mutations on graphql-js's own executor and, once an operation has been executed
 * `after` times, on its graphql-jit compilation: the variables' coercion, the resolver calls and the
 * result's completion become one generated function per operation (measured: a fifth of an edit's
 * main-thread time). Clients send the same few operations over and over, so only those are compiled;
 * a one-off query never pays for a compilation. Subscriptions keep graphql-js.
 *
 * graphql-jit does not enforce `@oneOf` on variables: resolvers taking a oneOf input check it
 * themselves (see toTextOp). When a compiled operation refuses its variables, graphql-js runs it
 * instead, for its clearer error (the same refusal). An operation that fails to compile keeps
 * running on graphql-js. One difference stays: where a fragment spread skipped by @include/@skip
 * shares a field with another, that field can come in another place in the response object (the
 * same data; seen in a differential check of @include/@skip with fragments).
 */
export function executor(after: number, log: Logger, compiledOne: (ok: boolean) => void = () => {}): Plugin {
  const seen = new WeakMap<DocumentNode, Seen>();

  function compiled(args: ExecutionArgs): CompiledQuery | null {
    let s = seen.get(args.document);
    if (!s) seen.set(args.document, (s = { runs: new Map(), compiled: new Map() }));
    const name = args.operationName ?? '';
    const done = s.compiled.get(name);
    if (done !== undefined) return done;
    // Only operations the document holds are counted, so a client cannot grow these maps with names.
    const operation = getOperationAST(args.document, args.operationName);
    if (!operation) return null;
    const runs = (s.runs.get(name) ?? 0) + 1;
    s.runs.set(name, runs);
    if (runs < after) return null;
    let c: CompiledQuery | null = null;
    if (operation.operation !== 'subscription') {
      try {
        const result = compileQuery(args.schema, args.document, args.operationName ?? undefined);
        if (isCompiledQuery(result)) c = result;
        else log.warn({ operation: operation.name?.value, errors: result.errors?.map((e) => e.message) }, 'operation could not be compiled; it runs on graphql-js');
      } catch (err) {
        log.warn({ operation: operation.name?.value, err }, 'operation could not be compiled; it runs on graphql-js');
      }
      compiledOne(c !== null);
    }
    s.compiled.set(name, c);
    return c;
  }

  const run = (args: ExecutionArgs): ExecutionResult | Promise<ExecutionResult> => {
    const c = after > 0 ? compiled(args) : null;
    if (!c) return execute(args);
    const result = c.query(args.rootValue, args.contextValue, args.variableValues);
    // Variables that do not coerce are refused at once, before anything runs (no data at all, not even
    // null): graphql-js says better what is wrong with them (the path into the input, a custom
    // scalar's own message), so it answers those.
    return !isPromiseLike(result) && result.data === undefined && result.errors?.length ? execute(args) : result;
  };
  return {
    onExecute({ setExecuteFn }) {
      setExecuteFn(run);
    },
  };
}

function isPromiseLike<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown }).then === 'function';
}
