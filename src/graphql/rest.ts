import { filterSchema, pruneSchema } from '@graphql-tools/utils';
import { useSofa } from '@graphql-yoga/plugin-sofa';
import type { GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { ErrorCode } from '../errors.js';
import { httpStatusOf, normalizeError } from './errors.js';

/** Where the REST API lives; its OpenAPI document is at `${REST_BASE}/openapi.json`, Swagger UI at `${REST_BASE}/docs`. */
export const REST_BASE = '/rest';

/**
 * The schema REST routes are generated from: the GraphQL schema without subscriptions and without
 * object fields that take arguments or need more than reading (SOFA selects every field of a
 * returned type, so a viewer's GET must not select the owner-only audit log). Those stay GraphQL's.
 */
function restSchema(schema: GraphQLSchema): GraphQLSchema {
  const hidden = new Set(['User.sessions', 'User.apiKeys', 'User.auditLog', 'Document.shareLinks']);
  return pruneSchema(
    filterSchema({
      schema,
      rootFieldFilter: (op) => op !== 'Subscription',
      objectFieldFilter: (type, name, field) => ['Query', 'Mutation'].includes(type) || (!hidden.has(`${type}.${name}`) && Object.keys(('args' in field && field.args) || {}).length === 0),
    }),
  );
}

/** `GET /rest/documents/:id`: SOFA answers the `document` field's null for one the caller cannot see. */
const DOCUMENT_ROUTE = new RegExp(`^${REST_BASE}/documents/[^/]+$`);

/**
 * Document CRUD (and every other query and mutation) over REST, generated from the same schema by
 * SOFA and executed through the same Yoga pipeline: the same auth, scopes and limits.
 */
export function restApi(log: Logger): Plugin {
  const sofa = useSofa({
    basePath: REST_BASE,
    openAPI: { info: { title: 'cowrite REST API', version: '1.0.0', description: 'Generated from the GraphQL schema (SOFA). Send Authorization: Bearer <session token or API key>.' } },
    // (Relative to basePath: served at /rest/docs.)
    swaggerUI: { endpoint: '/docs' },
    routes: {
      'Query.document': { method: 'GET', path: '/documents/:id', description: 'A document you can see (404 otherwise).' },
      'Query.documents': { method: 'GET', path: '/documents' },
      'Mutation.createDocument': { method: 'POST', path: '/documents', responseStatus: 201 },
      'Mutation.deleteDocument': { method: 'DELETE', path: '/documents/:documentId' },
      'Mutation.restoreDocument': { method: 'POST', path: '/documents/:documentId/restore' },
    },
    errorHandler: (errors) => {
      const normalized = errors.map((e) => normalizeError(e, log));
      // (SOFA types its Response with fets' typings; the runtime object is the platform's.)
      return Response.json({ errors: normalized.map((e) => e.toJSON()) }, { status: httpStatusOf(normalized[0]?.extensions.code) }) as never;
    },
  });
  return {
    ...sofa,
    onSchemaChange: (payload) => sofa.onSchemaChange!({ ...payload, schema: restSchema(payload.schema) }),
    // A document that does not exist, or that the caller may not see (the same answer for both), is
    // a 404 over REST, as GraphQL's null is.
    async onResponse({ request, response, setResponse }) {
      if (request.method !== 'GET' || response.status !== 200 || !DOCUMENT_ROUTE.test(new URL(request.url).pathname)) return;
      if ((await response.clone().text()).trim() !== 'null') return;
      const error = { message: 'document not found', extensions: { code: ErrorCode.NOT_FOUND } };
      setResponse(Response.json({ errors: [error] }, { status: httpStatusOf(ErrorCode.NOT_FOUND) }));
    },
  };
}
