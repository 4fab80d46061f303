import type { Server } from 'node:http';
import { GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { CloseCode, type OperationResult } from 'graphql-ws';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { IncomingMessage } from 'node:http';
import { clientInfo } from '../auth/clientInfo.js';
import { isAllowedOrigin } from '../auth/origins.js';
import type { RateLimits } from '../auth/rateLimits.js';
import { AppError, ErrorCode } from '../errors.js';
import { forCaller, normalizeError } from '../graphql/errors.js';
import { hasCredentials } from '../graphql/yoga.js';
import { deliverDirect } from './directDelivery.js';
import { subscribeShared } from './sharedExecution.js';
import { WriteCoalescer } from './writeCoalescer.js';
import type { Yoga } from '../graphql/yoga.js';
import { serveGraphQLWs } from './wsTransport.js';

export interface WsServerOptions {
  server: Server;
  yoga: Yoga;
  log: Logger;
  maxPayload: number;
  allowedOrigins: string[];
  /** Ping interval; a client silent for as long again is dropped (its subscriptions end). */
  keepAliveMs: number;
  /** Take client addresses from X-Forwarded-For. */
  trustProxy: boolean;
  /** Most subscriptions open at once on one connection. */
  maxSubscriptionsPerConnection: number;
  /** Connection attempts per client address. */
  rateLimits: RateLimits;
}

export interface WsServer {
  /** Closes every socket (with `code`) and stops accepting new ones. */
  stop(code?: number, reason?: string): Promise<void>;
  readonly clientCount: number;
}

/** graphql-ws (graphql-transport-ws) on /graphql, executing through Yoga's plugin pipeline. */
export function startWsServer({ server, yoga, log, maxPayload, allowedOrigins, keepAliveMs, trustProxy, maxSubscriptionsPerConnection, rateLimits }: WsServerOptions): WsServer {
  const wss = new WebSocketServer({
    server,
    path: yoga.graphqlEndpoint,
    maxPayload,
    verifyClient: ({ origin, req }: { origin?: string; req: IncomingMessage }, done: (ok: boolean, code?: number, message?: string, headers?: Record<string, string>) => void) => {
      // Browsers send Origin; a page on another site must not ride on a user's credentials. The
      // server's own pages (GraphiQL) are same-origin.
      if (origin && !isAllowedOrigin(allowedOrigins, origin, req.headers.host)) return done(false, 403, 'origin not allowed');
      rateLimits.consume(['connectionsPerIp', clientInfo(req, trustProxy).ip]).then(
        () => done(true),
        (err) => {
          const retryAfterMs = err instanceof AppError ? Number(err.extensions.retryAfterMs) : 1000;
          if (err instanceof AppError && err.code === ErrorCode.RATE_LIMITED) return done(false, 429, 'too many connection attempts', { 'retry-after': String(Math.ceil(retryAfterMs / 1000)) });
          log.warn({ err }, 'connection rate limit unavailable');
          done(true);
        },
      );
    },
  });
  // Results carry our error codes: mapped here rather than in onNext, which would cost every message an await.
  const normalize = (r: ExecutionResult): ExecutionResult => (r.errors ? { ...r, errors: r.errors.map((e) => normalizeError(e, log)) } : r);
  const coalescer = new WriteCoalescer();
  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => coalescer.attach(socket, request.socket));
  // Each operation's envelop execute, socket and id (for results sent past graphql-ws:
  // directDelivery.ts), found through its context.
  const operations = new WeakMap<object, Operation>();
  const disposable = serveGraphQLWs(
    {
      execute: async (args: ExecutionArgs) => normalize((await operations.get(args.contextValue as object)!.execute(args)) as ExecutionResult),
      // Subscription events are executed outside envelop (one execution shared by all watchers).
      subscribe: async (args: ExecutionArgs) => {
        const results = await subscribeShared(args, normalize);
        const op = operations.get(args.contextValue as object);
        return op && Symbol.asyncIterator in results ? deliverDirect(results, op.socket, op.id, coalescer) : results;
      },
      onSubscribe: async (ctx, id, payload) => {
        // (graphql-ws has already added this operation to ctx.subscriptions when it is a subscription.)
        if (Object.keys(ctx.subscriptions).length > maxSubscriptionsPerConnection) {
          return [new AppError(ErrorCode.RATE_LIMITED, `at most ${maxSubscriptionsPerConnection} operations may be open on one connection`, { max: maxSubscriptionsPerConnection })];
        }
        const request = (ctx.extra as { request?: IncomingMessage }).request;
        const { schema, execute, contextFactory, parse, validate } = yoga.getEnveloped({
          client: clientInfo(request, trustProxy),
          connectionParams: ctx.connectionParams as Record<string, unknown> | undefined,
          // GraphiQL (through @graphql-tools/url-loader) sends its header editor's headers here.
          extensions: payload.extensions as Record<string, unknown> | undefined,
        });
        try {
          const document = parse(payload.query);
          const errors = validate(schema, document);
          if (errors.length > 0) return errors.map((e: GraphQLError) => forCaller(normalizeError(e, log), !hasCredentials({ connectionParams: ctx.connectionParams as Record<string, unknown> | undefined, extensions: payload.extensions as Record<string, unknown> | undefined })));
          const contextValue = await contextFactory();
          operations.set(contextValue, { execute, socket: (ctx.extra as { socket: WebSocket }).socket, id });
          return {
            schema,
            document,
            operationName: payload.operationName,
            variableValues: payload.variables,
            contextValue,
          } as ExecutionArgs;
        } catch (err) {
          return [normalizeError(err, log)];
        }
      },
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => normalizeError(e, log).toJSON()),
    },
    wss,
    keepAliveMs,
    log,
  );
  wss.on('error', (err) => log.warn({ err }, 'websocket server error'));
  return {
    get clientCount() {
      return wss.clients.size;
    },
    async stop(code = CloseCode.InternalServerError, reason = 'server stopping') {
      for (const socket of wss.clients) socket.close(code, reason);
      coalescer.flush();
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

interface Operation {
  execute: (args: ExecutionArgs) => OperationResult;
  socket: WebSocket;
  id: string;
}
