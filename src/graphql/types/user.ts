import type { UserRecord } from '../../commands/logIn.js';
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
    resolve: (_root, _args, ctx) => {
      const v = ctx.viewer;
      if (!v) return null;
      return ctx.services.pool
        .query<{ created_at: Date }>('SELECT created_at FROM users WHERE id = $1', [v.userId])
        .then((r) => (r.rows[0] ? { id: v.userId, email: v.email, displayName: v.displayName, createdAt: r.rows[0].created_at } : null));
    },
  }),
);
