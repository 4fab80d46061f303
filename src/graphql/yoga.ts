import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { GraphQLError, type ExecutionResult } from 'graphql';
import { isAllowedOrigin } from '../auth/origins.js';
import { bearerToken } from '../auth/tokens.js';
import type { RequestContext, Services } from '../context.js';
import { normalizeError } from './errors.js';
import { schema } from './schema.js';

/** What the WebSocket server and the JSON POST path pass to the context factory instead of a fetch Request. */
export interface ServerInit {
  /** The HTTP Authorization header (JSON POST path). */
  authorization?: string | null;
  connectionParams?: Record<string, unknown>;
  /** The subscribe message's extensions (may carry `headers`). */
  extensions?: Record<string, unknown>;
}

export type Yoga = YogaServerInstance<ServerInit, RequestContext>;

/** GraphQL over HTTP (and the engine behind the WebSocket server): one plugin pipeline for both. */
export function createGraphQL(services: Services): Yoga {
  const { config, log } = services;
  const errorCodes: Plugin = {
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result) || !result || typeof result !== 'object' || !('errors' in result) || !result.errors) return;
      const r = result as ExecutionResult;
      setResult({ ...r, errors: r.errors!.map((e) => normalizeError(e, log)) });
    },
  };
  return createYoga<ServerInit, RequestContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    logging: {
      debug: (...a) => log.debug(a.map(String).join(' ')),
      info: (...a) => log.info(a.map(String).join(' ')),
      warn: (...a) => log.warn(a.map(String).join(' ')),
      error: (...a) => log.error(a.map(String).join(' ')),
    },
    // An allowlist, not Yoga's default of echoing any Origin: the server's own origin plus CORS_ORIGINS.
    cors: (request) => {
      const origin = request.headers.get('origin');
      return isAllowedOrigin(config.corsOrigins, origin, request.headers.get('host')) ? { origin: [origin!], credentials: true } : false;
    },
    graphiql: { subscriptionsProtocol: 'WS', title: 'cowrite' },
    maskedErrors: { maskError: (err) => normalizeError(err, log) },
    plugins: [errorCodes],
    context: async (init) => {
      const request = (init as { request?: Request }).request;
      const header = init.authorization ?? request?.headers?.get('authorization') ?? wsAuthorization(init.connectionParams) ?? wsAuthorization(init.extensions) ?? null;
      if (header !== null && typeof header !== 'string') throw new GraphQLError('authorization must be a string', { extensions: { code: 'UNAUTHENTICATED' } });
      const viewer = await services.sessions.authenticate(bearerToken(header) ?? (header ? '' : null));
      return { services, viewer };
    },
  });
}

/** WebSocket credentials: `authorization` (any case) in connectionParams or the subscribe extensions, or in their `headers`. */
function wsAuthorization(params: Record<string, unknown> | undefined): string | undefined {
  if (!params) return undefined;
  const pick = (o: Record<string, unknown>) => (o.authorization ?? o.Authorization) as string | undefined;
  const headers = params.headers;
  return pick(params) ?? (headers && typeof headers === 'object' ? pick(headers as Record<string, unknown>) : undefined);
}
