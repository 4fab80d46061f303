import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { ErrorCode, findAppError, isKnownCode, isUnavailable } from '../errors.js';

/** By name, not instanceof: graphql ships CJS and ESM builds, and a process may load both. */
const isGraphQLError = (e: unknown): e is GraphQLError => e instanceof Error && e.name === 'GraphQLError';

/**
 * The one boundary where errors become what clients see. Expected errors keep their code; errors
 * graphql-js raises without a code (parse, validation, variable coercion, @oneOf) become
 * BAD_USER_INPUT; anything else is logged and masked as INTERNAL_SERVER_ERROR.
 */
export function normalizeError(err: unknown, log: Logger): GraphQLError {
  const app = findAppError(err);
  if (app) {
    if (app === err) return app;
    return rebuilt(err as GraphQLError, app.message, { ...app.extensions });
  }
  if (isGraphQLError(err)) {
    const original = err.originalError;
    const code = err.extensions?.code;
    if (original && !isGraphQLError(original)) {
      if (isUnavailable(original)) return rebuilt(err, 'a dependency is unavailable; retry', { code: ErrorCode.UNAVAILABLE });
      log.error({ err: original, path: err.path }, 'unexpected error in resolver');
      return rebuilt(err, 'Unexpected error.', { code: ErrorCode.INTERNAL_SERVER_ERROR });
    }
    if (isKnownCode(code)) return err;
    if (code === 'INTERNAL_SERVER_ERROR') return err;
    // Syntax, validation and coercion errors carry no code of ours (Yoga may add its own).
    return rebuilt(err, err.message, { ...err.extensions, code: ErrorCode.BAD_USER_INPUT });
  }
  if (isUnavailable(err)) return new GraphQLError('a dependency is unavailable; retry', { extensions: { code: ErrorCode.UNAVAILABLE } });
  log.error({ err }, 'unexpected error');
  return new GraphQLError('Unexpected error.', { extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } });
}

/** A new error for the caller in place of `from`: at the same place (path, locations), with this message and these extensions. */
function rebuilt(from: GraphQLError, message: string, extensions: Record<string, unknown>, originalError?: Error): GraphQLError {
  const e = new GraphQLError(message, { nodes: from.nodes, source: from.source, positions: from.positions, path: from.path, originalError, extensions });
  // graphql-jit's errors (compiled operations) carry their locations without the AST nodes behind them.
  if (!e.locations && from.locations) (e as { locations: GraphQLError['locations'] }).locations = from.locations;
  return e;
}

const SUGGESTION = /\s*Did you mean .+\?/g;

/**
 * Field suggestions ("Did you mean ...?") map the schema for whoever asks: callers who sent no
 * credentials get the error without them. Applied to responses, not in validation, because
 * validation results are cached per document and shared by every caller.
 */
export function forCaller(e: GraphQLError, anonymous: boolean): GraphQLError {
  if (!anonymous) return e;
  const message = e.message.replace(SUGGESTION, '');
  if (message === e.message) return e;
  return rebuilt(e, message, e.extensions, e.originalError ?? undefined);
}

/** The HTTP status that goes with an error code, for routes that are not GraphQL over HTTP (REST, downloads). */
const HTTP_STATUS: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BAD_USER_INPUT: 400,
  UNKNOWN_VERSION: 409,
  SEQ_GAP: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  INTERNAL_SERVER_ERROR: 500,
};

export const httpStatusOf = (code: unknown): number => (isKnownCode(code) ? HTTP_STATUS[code] : 500);
