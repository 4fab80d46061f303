import {
  execute,
  getNamedType,
  getNullableType,
  getOperationAST,
  isInputObjectType,
  isListType,
  typeFromAST,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLInputObjectType,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';

/** What we know of one parsed document (Yoga's parser cache hands the same object back for the same text). */
interface Seen {
  /** Executions so far, per operation name ('' for the only one). */
  runs: Map<string, number>;
  /** The compiled operation, per operation name; null when it could not be compiled. */
  compiled: Map<string, Compiled | null>;
}

interface Compiled {
  query: CompiledQuery;
  /** The variables whose types hold a @oneOf input somewhere, with those types. */
  oneOfVariables: [string, GraphQLInputType][];
}

/**
 * Runs queries and mutations on graphql-js's own executor and, once an operation has been executed
 * `after` times, on its graphql-jit compilation: the variables' coercion, the resolver calls and the
 * result's completion become one generated function per operation (measured: a fifth of an edit's
 * main-thread time). Clients send the same few operations over and over, so only those are compiled;
 * a one-off query never pays for a compilation. Subscriptions keep graphql-js.
 *
 * graphql-jit does not enforce `@oneOf` on variables: variables that break it are left to graphql-js,
 * which refuses them. When a compiled operation refuses its variables, graphql-js runs it instead,
 * for its clearer error (the same refusal). An operation that fails to compile keeps
 * running on graphql-js. One difference stays: where a fragment spread skipped by @include/@skip
 * shares a field with another, that field can come in another place in the response object (the
 * same data; seen in a differential check of @include/@skip with fragments).
 */
export function executor(after: number, log: Logger, compiledOne: (ok: boolean) => void = () => {}): Plugin {
  const seen = new WeakMap<DocumentNode, Seen>();

  function compiled(args: ExecutionArgs): Compiled | null {
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
    let c: Compiled | null = null;
    if (operation.operation !== 'subscription') {
      try {
        const result = compileQuery(args.schema, args.document, args.operationName ?? undefined);
        if (isCompiledQuery(result)) c = { query: result, oneOfVariables: oneOfVariables(args.schema, operation) };
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
    const variables = args.variableValues ?? {};
    if (c.oneOfVariables.some(([name, type]) => breaksOneOf(type, variables[name]))) return execute(args);
    const result = c.query.query(args.rootValue, args.contextValue, variables);
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

/** The operation's variables whose types reach a @oneOf input object. */
function oneOfVariables(schema: GraphQLSchema, operation: OperationDefinitionNode): [string, GraphQLInputType][] {
  const out: [string, GraphQLInputType][] = [];
  for (const v of operation.variableDefinitions ?? []) {
    const type = typeFromAST(schema, v.type) as GraphQLInputType | undefined;
    if (type && reachesOneOf(getNamedType(type), new Set())) out.push([v.variable.name.value, type]);
  }
  return out;
}

function reachesOneOf(type: ReturnType<typeof getNamedType>, seen: Set<GraphQLInputObjectType>): boolean {
  if (!isInputObjectType(type) || seen.has(type)) return false;
  if (type.isOneOf) return true;
  seen.add(type);
  return Object.values(type.getFields()).some((f) => reachesOneOf(getNamedType(f.type), seen));
}

/**
 * Whether a variable's value, as sent, breaks @oneOf somewhere (a oneOf object without exactly one
 * field set, or with that field null). Values of the wrong shape are left alone: coercion refuses them.
 */
function breaksOneOf(type: GraphQLInputType, value: unknown): boolean {
  if (value == null) return false;
  const t = getNullableType(type) as GraphQLInputType;
  if (isListType(t)) return Array.isArray(value) ? value.some((item) => breaksOneOf(t.ofType, item)) : breaksOneOf(t.ofType, value);
  if (!isInputObjectType(t) || typeof value !== 'object' || Array.isArray(value)) return false;
  const fields = t.getFields();
  const record = value as Record<string, unknown>;
  if (t.isOneOf) {
    const set = Object.keys(record).filter((k) => record[k] !== undefined);
    if (set.length !== 1 || record[set[0]!] === null) return true;
  }
  for (const [k, v] of Object.entries(record)) {
    const field = fields[k];
    if (field && breaksOneOf(field.type, v)) return true;
  }
  return false;
}
