import { and, desc, eq, gte, isNotNull, lt, lte, sql, type AnyColumn, type SQL } from 'drizzle-orm';
import { isUuid } from '../../auth/access.js';
import { operations } from '../../db/schema.js';
import { badInput } from '../../errors.js';
import { builder } from '../builder.js';
import { pageOf } from '../pagination.js';
import { DocumentRef } from './document.js';

interface OperationRecord {
  serverOrder: number;
  agent: string;
  seqStart: number;
  seqEnd: number;
  isPatch: boolean;
  authorId: string;
  inserted: number;
  deleted: number;
  edits: number;
  folded: boolean;
  createdAt: Date;
}

const OperationRef = builder.objectRef<OperationRecord>('Operation').implement({
  description: 'One accepted write (an editDocument or applyPatch), or several folded together, as stored in the operation log.',
  fields: (t) => ({
    serverOrder: t.exposeInt('serverOrder', { description: "Its place in this document's log (1, 2, ...)." }),
    agent: t.exposeString('agent'),
    seqStart: t.exposeInt('seqStart'),
    seqEnd: t.exposeInt('seqEnd', { description: 'Exclusive end of the seq range.' }),
    kind: t.string({
      description: 'EDIT (positional ops), PATCH, or FOLDED: writes of one agent in one minute that document__compact folded into one row once a snapshot held them.',
      resolve: (o) => (o.folded ? 'FOLDED' : o.isPatch ? 'PATCH' : 'EDIT'),
    }),
    edits: t.exposeInt('edits', { description: 'Accepted writes this entry stands for (more than 1 when FOLDED).' }),
    authorId: t.exposeID('authorId'),
    inserted: t.exposeInt('inserted', { description: 'Code points inserted.' }),
    deleted: t.exposeInt('deleted', { description: 'Code points deleted.' }),
    createdAt: t.field({ type: 'DateTime', resolve: (o) => o.createdAt }),
  }),
});

const msOf = (column: AnyColumn): SQL => sql`date_trunc('milliseconds', ${column})`;

const cursorOf = (order: number) => Buffer.from(String(order)).toString('base64url');
function orderOf(cursor: string): number {
  const n = Number(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!Number.isSafeInteger(n) || n < 1) throw badInput('after is not a cursor returned by this connection', { field: 'after' });
  return n;
}

builder.objectField(DocumentRef, 'operations', (t) =>
  t.connection({
    type: OperationRef,
    description: 'The accepted writes, newest first; optionally only one user\'s, or only those in [from, to].',
    args: {
      userId: t.arg.id({ required: false }),
      from: t.arg({ type: 'DateTime', required: false }),
      to: t.arg({ type: 'DateTime', required: false }),
    },
    resolve: async (d, args, ctx) => {
      if (args.before || args.last) throw badInput('operations pages forward only: use first and after');
      const first = args.first ?? 50;
      if (first < 0 || first > 500) throw badInput('first must be between 0 and 500', { field: 'first', max: 500 });
      const after = args.after ? orderOf(args.after) : null;
      if (args.userId && !isUuid(String(args.userId))) throw badInput('userId is not a user id', { field: 'userId' });
      const rows = await ctx.services.db
        .select({
          serverOrder: operations.serverOrder,
          agent: operations.agent,
          seqStart: operations.seqStart,
          seqEnd: operations.seqEnd,
          isPatch: isNotNull(operations.patch),
          authorId: operations.authorId,
          inserted: operations.inserted,
          deleted: operations.deleted,
          edits: operations.edits,
          folded: sql<boolean>`(${operations.ops} IS NULL AND ${operations.patch} IS NULL)`,
          createdAt: operations.createdAt,
        })
        .from(operations)
        .where(
          and(
            eq(operations.documentId, d.meta.id),
            after !== null ? lt(operations.serverOrder, after) : undefined,
            args.userId ? eq(operations.authorId, String(args.userId)) : undefined,
            // At the millisecond precision DateTime has, so a time read from this API includes its row.
            args.from ? gte(msOf(operations.createdAt), args.from) : undefined,
            args.to ? lte(msOf(operations.createdAt), args.to) : undefined,
          ),
        )
        .orderBy(desc(operations.serverOrder))
        .limit(first + 1);
      return pageOf(rows, first, after !== null, (r) => cursorOf(r.serverOrder), (r) => r as OperationRecord);
    },
  }),
);
