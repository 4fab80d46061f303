import type { IncomingMessage, ServerResponse } from 'node:http';
import { getOperationAST, GraphQLError, type DocumentNode, type ExecutionResult } from 'graphql';
import type { Logger } from 'pino';
import { clientInfo } from '../auth/clientInfo.js';
import { ErrorCode } from '../errors.js';
import { forCaller, normalizeError } from './errors.js';
import type { Yoga } from './yoga.js';

const GRAPHQL_RESPONSE = 'application/graphql-response+json; charset=utf-8';
const JSON_RESPONSE = 'application/json; charset=utf-8';

export interface JsonPostOptions {
  yoga: Yoga;
  log: Logger;
  maxBodyBytes: number;
  /** Take the client address from X-Forwarded-For. */
  trustProxy: boolean;
  /** The Access-Control-Allow-Origin to send for this request's Origin, or null for none. */
  allowOrigin(origin: string | undefined, host: string | undefined): string | null;
}

/**
 * The common case of GraphQL over HTTP — a POST of one JSON-encoded query or mutation — executed
 * through Yoga's own plugin pipeline (`yoga.getEnveloped`: parser and validation caches, error
 * masking, context), like the WebSocket server does, but without adapting every request to the
 * fetch API, which costs three quarters of Yoga's Node handler here (see README, Performance).
 * Everything else (GraphiQL, GET, SSE, multipart, preflight) is Yoga's. Returns false when the
 * request is not for it, having read nothing.
 */
export function createJsonPostHandler({ yoga, log, maxBodyBytes, trustProxy, allowOrigin }: JsonPostOptions) {
  return function handleJsonPost(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method !== 'POST') return false;
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/(graphql\+)?json\b/i.test(type)) return false;
    const accept = req.headers.accept ?? '*/*';
    if (/text\/event-stream|multipart\/mixed/i.test(accept)) return false;
    const wantsGraphQLResponse = /application\/graphql-response\+json|\*\/\*/i.test(accept) || !/application\/json/i.test(accept);
    serve(req, res, wantsGraphQLResponse).catch((err) => {
      log.error({ err }, 'JSON POST handling failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': JSON_RESPONSE });
      res.end();
    });
    return true;
  };

  async function serve(req: IncomingMessage, res: ServerResponse, graphqlResponse: boolean) {
    const headers: Record<string, string> = { 'content-type': graphqlResponse ? GRAPHQL_RESPONSE : JSON_RESPONSE };
    const origin = allowOrigin(req.headers.origin, req.headers.host);
    if (origin) {
      headers['access-control-allow-origin'] = origin;
      headers['access-control-allow-credentials'] = 'true';
      headers.vary = 'Origin';
    }
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    const requestError = (err: unknown) => {
      const e = normalizeError(err, log);
      const code = e.extensions.code;
      const status = !graphqlResponse ? 200 : code === ErrorCode.UNAUTHENTICATED ? 401 : code === ErrorCode.INTERNAL_SERVER_ERROR ? 500 : 400;
      send(code === ErrorCode.PAYLOAD_TOO_LARGE ? 413 : status, { errors: [e.toJSON()] });
    };

    let body: unknown;
    try {
      body = JSON.parse(await readBody(req, maxBodyBytes));
    } catch (err) {
      if (err instanceof GraphQLError) return requestError(err);
      return requestError(new GraphQLError('request body is not valid JSON', { extensions: { code: ErrorCode.BAD_USER_INPUT } }));
    }
    const params = body as { query?: unknown; variables?: unknown; operationName?: unknown; extensions?: unknown } | null;
    if (!params || typeof params !== 'object' || Array.isArray(params) || typeof params.query !== 'string') {
      return requestError(new GraphQLError('expected a JSON object with a "query" string', { extensions: { code: ErrorCode.BAD_USER_INPUT } }));
    }
    if (params.variables != null && (typeof params.variables !== 'object' || Array.isArray(params.variables))) {
      return requestError(new GraphQLError('"variables" must be an object', { extensions: { code: ErrorCode.BAD_USER_INPUT } }));
    }
    const operationName = typeof params.operationName === 'string' ? params.operationName : undefined;
    const authorization = req.headers.authorization ?? null;
    const { parse, validate, contextFactory, execute, schema } = yoga.getEnveloped({ authorization, client: clientInfo(req, trustProxy) });
    let document: DocumentNode;
    try {
      document = parse(params.query);
    } catch (err) {
      return requestError(err);
    }
    let errors: readonly GraphQLError[];
    try {
      errors = validate(schema, document);
    } catch (err) {
      // graphql-armor's limits throw from validation rather than report.
      return requestError(err);
    }
    if (errors.length > 0) {
      send(graphqlResponse ? 400 : 200, { errors: errors.map((e: GraphQLError) => forCaller(normalizeError(e, log), !authorization).toJSON()) });
      return;
    }
    const operation = getOperationAST(document, operationName);
    if (!operation) return requestError(new GraphQLError('could not determine which operation to run', { extensions: { code: ErrorCode.BAD_USER_INPUT } }));
    if (operation.operation === 'subscription') {
      return requestError(new GraphQLError('subscriptions are served over WebSocket (graphql-transport-ws) on this path', { extensions: { code: ErrorCode.BAD_USER_INPUT } }));
    }
    try {
      const contextValue = await contextFactory();
      const result = (await execute({ schema, document, operationName, variableValues: params.variables as Record<string, unknown> | undefined, contextValue })) as ExecutionResult;
      const out: ExecutionResult = result.errors ? { ...result, errors: result.errors.map((e) => normalizeError(e, log)) } : result;
      // No data at all (variables that do not coerce, say) is a request error.
      send(graphqlResponse && out.data === undefined ? 400 : 200, out);
    } catch (err) {
      requestError(err);
    }
  }
}

/** Reads a request body as text, refusing (PAYLOAD_TOO_LARGE) past `max` bytes. */
function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.resume();
        reject(new GraphQLError(`request body is larger than ${max} bytes`, { extensions: { code: ErrorCode.PAYLOAD_TOO_LARGE, max } }));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
