import { eq } from 'drizzle-orm';
import type { UserRecord } from '../../commands/logIn.js';
import { users } from '../../db/schema.js';
import { builder } from '../builder.js';

export const UserRef = builder.objectRef<UserRecord>('User').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    displayName: t.exposeString('displayName'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryField('me', (t) =>
  t.field({
    type: UserRef,
    nullable: true,
    description: 'The signed-in user; null when not signed in.',
    resolve: async (_root, _args, ctx) => {
      const v = ctx.viewer;
      if (!v) return null;
      const [u] = await ctx.services.db
        .select({ id: users.id, email: users.email, displayName: users.displayName, createdAt: users.createdAt })
        .from(users)
        .where(eq(users.id, v.userId));
      return u ?? null;
    },
  }),
);
