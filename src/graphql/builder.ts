import SchemaBuilder from '@pothos/core';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin, { AuthScopeFailureType, type AuthFailure } from '@pothos/plugin-scope-auth';
import { hasRole, refusal } from '../auth/access.js';
import { allowsScope, type ApiScope } from '../auth/apiScopes.js';
import type { Role } from '../auth/roles.js';
import type { RequestContext } from '../context.js';
import type { RemoteVersion } from '../crdt/version.js';
import { AppError, ErrorCode } from '../errors.js';

/** A role the caller must hold on a document (one in the trash only when `inTrash`), and the API-key scope the operation needs. */
export interface DocumentScope {
  documentId: string;
  role: Role;
  apiScope: ApiScope;
  inTrash?: boolean;
}

/** The Pothos builder and its plugins. Types are defined in ./types, one file each. */
export const builder = new SchemaBuilder<{
  Context: RequestContext;
  Scalars: {
    Version: { Input: RemoteVersion; Output: RemoteVersion };
    DateTime: { Input: Date; Output: Date };
  };
  AuthScopes: {
    /** Any credential. */
    signedIn: boolean;
    /** A session, not an API key (account management). */
    session: boolean;
    /** An API key with this scope, or a session. */
    apiScope: ApiScope;
    /** One scope, not an $all of two, for the operations on a document: it is checked on every edit. */
    document: DocumentScope;
  };
  DefaultFieldNullability: false;
}>({
  // Relay first, so scope functions see parsed arguments; scope-auth before anything else that wraps resolvers.
  plugins: [RelayPlugin, ScopeAuthPlugin],
  defaultFieldNullability: false,
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
  },
  scopeAuth: {
    // Subscriptions are authorised when they start; losing access later ends them (DocumentAccess).
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      signedIn: !!ctx.viewer,
      session: ctx.viewer?.credential.kind === 'session',
      apiScope: (scope) => allowsScope(ctx.viewer, scope),
      document: ({ documentId, role, apiScope, inTrash }) => allowsScope(ctx.viewer, apiScope) && hasRole(ctx, documentId, role, inTrash),
    }),
    unauthorizedError: (_parent, ctx, _info, result) => refusalFor(ctx, result.failure),
  },
});

/** The error a refused field answers with: the first scope that failed decides the code. */
function refusalFor(ctx: RequestContext, failure: AuthFailure): AppError {
  if (!ctx.viewer) return new AppError(ErrorCode.UNAUTHENTICATED, 'sign in first: send Authorization: Bearer <token>');
  const first = firstFailedScope(failure);
  if (first?.scope === 'session') return new AppError(ErrorCode.FORBIDDEN, 'an API key cannot do this; use a signed-in session');
  if (first?.scope === 'apiScope') return new AppError(ErrorCode.FORBIDDEN, `this API key lacks the ${String(first.parameter)} scope`, { required: first.parameter });
  if (first?.scope === 'document') {
    const p = first.parameter as DocumentScope;
    if (!allowsScope(ctx.viewer, p.apiScope)) return new AppError(ErrorCode.FORBIDDEN, `this API key lacks the ${p.apiScope} scope`, { required: p.apiScope });
    return refusal(ctx, p.documentId, p.role, p.inTrash);
  }
  return new AppError(ErrorCode.FORBIDDEN, 'not allowed');
}

function firstFailedScope(f: AuthFailure): { scope: string; parameter: unknown } | null {
  if (f.kind === AuthScopeFailureType.AuthScope) return f;
  if (f.kind === AuthScopeFailureType.AllAuthScopes || f.kind === AuthScopeFailureType.AnyAuthScopes) {
    for (const inner of f.failures) {
      const found = firstFailedScope(inner);
      if (found) return found;
    }
  }
  return null;
}

/** Scope maps the fields use. */
export const scopes = {
  /** Read a document (`apiScope`: what else the operation needs from a key, e.g. a fork writes). */
  read: (documentId: unknown, apiScope: ApiScope = 'documents:read') => ({ document: { documentId: String(documentId), role: 'VIEWER', apiScope } }) as const,
  /** Change a document's text or history. */
  write: (documentId: unknown) => ({ document: { documentId: String(documentId), role: 'EDITOR', apiScope: 'documents:write' } }) as const,
  /** Share, delete or see the audit log of a document. */
  own: (documentId: unknown, apiScope: ApiScope = 'documents:share', inTrash = false) => ({ document: { documentId: String(documentId), role: 'OWNER', apiScope, inTrash } }) as const,
};

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
