import type { IncomingMessage } from 'node:http';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { GraphQLError, NoSchemaIntrospectionCustomRule, type ExecutionResult } from 'graphql';
import { clientInfo } from '../auth/clientInfo.js';
import { isAllowedOrigin } from '../auth/origins.js';
import { bearerToken } from '../auth/tokens.js';
import type { ClientInfo } from '../auth/viewer.js';
import { introspectionEnabled } from '../config.js';
import type { RequestContext, Services } from '../context.js';
import { forCaller, normalizeError } from './errors.js';
import { executor } from './jit.js';
import { restApi } from './rest.js';
import { schema } from './schema.js';

/** What the WebSocket server and the JSON POST path pass to the context factory instead of a fetch Request. */
export interface ServerInit {
  /** The HTTP Authorization header (JSON POST path). */
  authorization?: string | null;
  connectionParams?: Record<string, unknown>;
  /** The subscribe message's extensions (may carry `headers`). */
  extensions?: Record<string, unknown>;
  /** Where the request came from (JSON POST and WebSocket paths). */
  client?: ClientInfo;
}

export type Yoga = YogaServerInstance<ServerInit, RequestContext>;

/** GraphQL over HTTP (and the engine behind the WebSocket server and REST): one plugin pipeline for all. */
export function createGraphQL(services: Services, metrics?: { operationCompiled(ok: boolean): void }): Yoga {
  const { config, log } = services;
  const introspection = introspectionEnabled(config);
  const errorCodes: Plugin = {
    onResultProcess({ request, result, setResult }) {
      if (Array.isArray(result) || !result || typeof result !== 'object' || !('errors' in result) || !result.errors) return;
      const r = result as ExecutionResult;
      const anonymous = !request.headers.get('authorization');
      setResult({ ...r, errors: r.errors!.map((e) => forCaller(normalizeError(e, log), anonymous)) });
    },
  };
  const noIntrospection: Plugin = {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
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
    graphiql: introspection ? { subscriptionsProtocol: 'WS', title: 'cowrite' } : false,
    maskedErrors: { maskError: (err) => normalizeError(err, log) },
    plugins: [
      // Not Yoga's executor (@graphql-tools/executor), which copies every input object before coercing
      // it (a fifth of an edit's time) for incremental delivery (@defer, @stream) this schema does not
      // offer: graphql-js's, and graphql-jit's compilation of the operations clients keep sending.
      executor(config.graphqlJitAfter, log, (ok) => metrics?.operationCompiled(ok)),
      // A request a browser would send cross-site without a preflight (GET, form posts) must carry one of these headers.
      useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf', 'apollo-require-preflight', 'x-apollo-operation-name', 'graphql-preflight'] }),
      EnvelopArmorPlugin({
        maxDepth: { n: config.armor.maxDepth, ignoreIntrospection: true },
        maxAliases: { n: config.armor.maxAliases },
        costLimit: { maxCost: config.armor.maxCost, ignoreIntrospection: true },
        maxTokens: { n: config.armor.maxTokens },
        maxDirectives: { n: config.armor.maxDirectives },
        blockFieldSuggestion: { enabled: false },
      }),
      ...(introspection ? [] : [noIntrospection]),
      restApi(log),
      errorCodes,
    ],
    context: async (init) => {
      const request = (init as { request?: Request }).request;
      const client = init.client ?? clientInfo((init as { req?: IncomingMessage }).req, config.trustProxy);
      const header = init.authorization ?? request?.headers?.get('authorization') ?? wsAuthorization(init.connectionParams) ?? wsAuthorization(init.extensions) ?? null;
      if (header !== null && typeof header !== 'string') throw new GraphQLError('authorization must be a string', { extensions: { code: 'UNAUTHENTICATED' } });
      const viewer = await services.auth.authenticate(bearerToken(header) ?? (header ? '' : null), client);
      return { services, viewer, client };
    },
  });
}

/** Whether a request sent credentials at all (before they are checked). */
export function hasCredentials(init: ServerInit & { request?: Request }): boolean {
  return !!(init.authorization ?? init.request?.headers?.get('authorization') ?? wsAuthorization(init.connectionParams) ?? wsAuthorization(init.extensions));
}

/** WebSocket credentials: `authorization` (any case) in connectionParams or the subscribe extensions, or in their `headers`. */
function wsAuthorization(params: Record<string, unknown> | undefined): string | undefined {
  if (!params) return undefined;
  const pick = (o: Record<string, unknown>) => (o.authorization ?? o.Authorization) as string | undefined;
  const headers = params.headers;
  return pick(params) ?? (headers && typeof headers === 'object' ? pick(headers as Record<string, unknown>) : undefined);
}
