import { logIn } from '../../commands/logIn.js';
import { logOut } from '../../commands/logOut.js';
import { signUp } from '../../commands/signUp.js';
import type { AuthResult } from '../../commands/logIn.js';
import { builder } from '../builder.js';
import { UserRef } from './user.js';

const AuthPayload = builder.objectRef<AuthResult>('AuthPayload').implement({
  fields: (t) => ({
    token: t.exposeString('token', { description: 'Bearer token for this session. Shown once.' }),
    user: t.field({ type: UserRef, resolve: (p) => p.user }),
  }),
});

const SignUpInput = builder.inputType('SignUpInput', {
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ required: true, description: 'At least 8 characters.' }),
    displayName: t.string({ required: true }),
  }),
});

const LogInInput = builder.inputType('LogInInput', {
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ required: true }),
  }),
});

builder.mutationFields((t) => ({
  signUp: t.field({
    type: AuthPayload,
    args: { input: t.arg({ type: SignUpInput, required: true }) },
    resolve: (_r, { input }, ctx) => signUp(ctx.services, input, ctx.client),
  }),
  logIn: t.field({
    type: AuthPayload,
    args: { input: t.arg({ type: LogInInput, required: true }) },
    resolve: (_r, { input }, ctx) => logIn(ctx.services, input, ctx.client),
  }),
  logOut: t.boolean({
    description: 'Revokes the session token that made this request.',
    authScopes: { session: true },
    resolve: (_r, _a, ctx) => logOut(ctx),
  }),
}));
