import type { ApiKeyRecord } from '../../auth/apiKeys.js';
import { API_SCOPES, type ApiScope } from '../../auth/apiScopes.js';
import type { SessionRecord } from '../../auth/sessionStore.js';
import { changePassword } from '../../commands/changePassword.js';
import { createApiKey } from '../../commands/createApiKey.js';
import { revokeApiKey } from '../../commands/revokeApiKey.js';
import { revokeSessions } from '../../commands/revokeSessions.js';
import { isUuid } from '../../auth/access.js';
import type { RequestContext } from '../../context.js';
import { AppError, ErrorCode } from '../../errors.js';
import { builder } from '../builder.js';
import { UserRef } from './user.js';

const ApiScopeRef = builder.enumType('ApiScope', {
  description: 'What an API key may do. Writing and sharing include reading.',
  values: Object.fromEntries(
    API_SCOPES.map((s) => [s.replace(':', '_').toUpperCase(), { value: s, description: { 'documents:read': 'Read and subscribe to documents.', 'documents:write': 'Create, edit and delete documents, and save versions.', 'documents:share': 'Share documents and manage their links.' }[s] }]),
  ) as Record<'DOCUMENTS_READ' | 'DOCUMENTS_WRITE' | 'DOCUMENTS_SHARE', { value: ApiScope; description: string }>,
});

const SessionRef = builder.objectRef<SessionRecord & { current: boolean }>('Session').implement({
  description: 'A signed-in session.',
  fields: (t) => ({
    id: t.exposeID('id'),
    current: t.exposeBoolean('current', { description: 'The session making this request.' }),
    createdAt: t.field({ type: 'DateTime', resolve: (s) => s.createdAt }),
    lastUsedAt: t.field({ type: 'DateTime', resolve: (s) => s.lastUsedAt }),
    expiresAt: t.field({ type: 'DateTime', description: 'Moves forward with each use.', resolve: (s) => s.expiresAt }),
    ip: t.exposeString('ip', { nullable: true }),
    userAgent: t.exposeString('userAgent', { nullable: true }),
  }),
});

const ApiKeyRef = builder.objectRef<ApiKeyRecord>('ApiKey').implement({
  description: 'An API key: acts as its user, within its scopes. The secret is shown only when it is created.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    prefix: t.exposeString('prefix', { description: 'The first characters of the secret, to tell keys apart.' }),
    scopes: t.field({ type: [ApiScopeRef], resolve: (k) => k.scopes }),
    createdAt: t.field({ type: 'DateTime', resolve: (k) => k.createdAt }),
    lastUsedAt: t.field({ type: 'DateTime', nullable: true, resolve: (k) => k.lastUsedAt }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (k) => k.expiresAt }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, resolve: (k) => k.revokedAt }),
  }),
});

const CreateApiKeyPayload = builder.objectRef<{ secret: string; key: ApiKeyRecord }>('CreateApiKeyPayload').implement({
  fields: (t) => ({
    secret: t.exposeString('secret', { description: 'Send as Authorization: Bearer <secret>. Shown once: it is stored only as a hash.' }),
    apiKey: t.field({ type: ApiKeyRef, resolve: (p) => p.key }),
  }),
});

async function sessionsOf(ctx: RequestContext, userId: string) {
  return (await ctx.services.sessions.list(userId)).map((s) => ({ ...s, current: s.id === ctx.viewer!.credential.id }));
}

/** Only the caller's own account, and only from a session: a key cannot manage sessions or mint keys. */
const own = (u: { id: string }, _args: unknown, ctx: { viewer: { userId: string } | null }) => ({ $all: { session: true, signedIn: ctx.viewer?.userId === u.id } });

builder.objectFields(UserRef, (t) => ({
  sessions: t.field({
    type: [SessionRef],
    description: 'Your signed-in sessions, newest first.',
    authScopes: own,
    resolve: (u, _a, ctx) => sessionsOf(ctx, u.id),
  }),
  apiKeys: t.field({
    type: [ApiKeyRef],
    description: 'Your API keys, newest first (revoked ones included).',
    authScopes: own,
    resolve: (u, _a, ctx) => ctx.services.apiKeys.list(u.id),
  }),
}));

builder.queryFields((t) => ({
  sessions: t.field({
    type: [SessionRef],
    description: 'Your signed-in sessions, newest first (as me.sessions).',
    authScopes: { session: true },
    resolve: (_r, _a, ctx) => sessionsOf(ctx, ctx.viewer!.userId),
  }),
  apiKeys: t.field({
    type: [ApiKeyRef],
    description: 'Your API keys, newest first (as me.apiKeys).',
    authScopes: { session: true },
    resolve: (_r, _a, ctx) => ctx.services.apiKeys.list(ctx.viewer!.userId),
  }),
}));

builder.mutationFields((t) => ({
  logOutEverywhere: t.int({
    description: 'Revokes all your sessions (this one too unless keepCurrent); their subscriptions end. Returns how many.',
    args: { keepCurrent: t.arg.boolean({ required: false, defaultValue: false }) },
    authScopes: { session: true },
    resolve: (_r, { keepCurrent }, ctx) => revokeSessions(ctx, null, !keepCurrent),
  }),
  revokeSession: t.boolean({
    description: 'Revokes one of your sessions (see me.sessions).',
    args: { id: t.arg.id({ required: true }) },
    authScopes: { session: true },
    resolve: async (_r, { id }, ctx) => {
      const n = isUuid(String(id)) ? await revokeSessions(ctx, [String(id)], true) : 0;
      if (n === 0) throw new AppError(ErrorCode.NOT_FOUND, 'no such session', { field: 'id' });
      return true;
    },
  }),
  changePassword: t.int({
    description: 'Changes your password and signs out every other session. Returns how many were signed out.',
    args: { currentPassword: t.arg.string({ required: true }), newPassword: t.arg.string({ required: true }) },
    authScopes: { session: true },
    resolve: (_r, args, ctx) => changePassword(ctx, args),
  }),
  createApiKey: t.field({
    type: CreateApiKeyPayload,
    description: 'Creates an API key acting as you within `scopes`. The secret is in the answer and nowhere else.',
    args: {
      name: t.arg.string({ required: true }),
      scopes: t.arg({ type: [ApiScopeRef], required: true }),
      expiresAt: t.arg({ type: 'DateTime', required: false }),
    },
    authScopes: { session: true },
    resolve: (_r, args, ctx) => createApiKey(ctx, { name: args.name, scopes: args.scopes as ApiScope[], expiresAt: args.expiresAt }),
  }),
  revokeApiKey: t.boolean({
    description: 'Revokes one of your API keys: refused from then on, on every instance.',
    args: { id: t.arg.id({ required: true }) },
    authScopes: { session: true },
    resolve: (_r, { id }, ctx) => revokeApiKey(ctx, String(id)),
  }),
}));
