import { and, asc, eq, gte, lte } from 'drizzle-orm';
import { activityDaily } from '../../db/schema.js';
import { badInput } from '../../errors.js';
import { builder } from '../builder.js';
import { DocumentRef } from './document.js';
import { UserRef } from './user.js';

type ActivityRow = typeof activityDaily.$inferSelect;

const ActivityDayRef = builder.objectRef<ActivityRow>('ActivityDay').implement({
  description: "One user's activity on one document on one day (UTC), counted hourly by analytics__rollup.",
  fields: (t) => ({
    day: t.exposeString('day', { description: 'YYYY-MM-DD (UTC).' }),
    documentId: t.exposeID('documentId'),
    userId: t.exposeID('userId'),
    edits: t.exposeInt('edits', { description: 'Accepted edits and patches.' }),
    inserted: t.exposeInt('inserted', { description: 'Characters (code points) inserted.' }),
    deleted: t.exposeInt('deleted', { description: 'Characters (code points) deleted.' }),
    activeMinutes: t.exposeInt('activeMinutes', { description: 'Minutes with at least one edit.' }),
  }),
});

/** The days from `from` to `to` (inclusive, UTC), at most a year. */
function dayRange(from: Date, to: Date): [string, string] {
  if (to.getTime() < from.getTime()) throw badInput('to must not be before from', { field: 'to' });
  if (to.getTime() - from.getTime() > 366 * 86_400_000) throw badInput('ask for at most a year at a time', { field: 'to' });
  return [from.toISOString().slice(0, 10), to.toISOString().slice(0, 10)];
}

builder.objectFields(DocumentRef, (t) => ({
  activity: t.field({
    type: [ActivityDayRef],
    description: "Who edited this document how much, per day (UTC), oldest first. Counted hourly.",
    args: { from: t.arg({ type: 'DateTime', required: true }), to: t.arg({ type: 'DateTime', required: true }) },
    resolve: (d, { from, to }, ctx) => {
      const [a, b] = dayRange(from, to);
      return ctx.services.db
        .select()
        .from(activityDaily)
        .where(and(eq(activityDaily.documentId, d.meta.id), gte(activityDaily.day, a), lte(activityDaily.day, b)))
        .orderBy(asc(activityDaily.day), asc(activityDaily.userId));
    },
  }),
}));

builder.objectFields(UserRef, (t) => ({
  activity: t.field({
    type: [ActivityDayRef],
    description: 'What you edited how much, per document and day (UTC), oldest first. Counted hourly.',
    args: { from: t.arg({ type: 'DateTime', required: true }), to: t.arg({ type: 'DateTime', required: true }) },
    authScopes: (u, _a, ctx) => ({ signedIn: ctx.viewer?.userId === u.id }),
    resolve: (u, { from, to }, ctx) => {
      const [a, b] = dayRange(from, to);
      return ctx.services.db
        .select()
        .from(activityDaily)
        .where(and(eq(activityDaily.userId, u.id), gte(activityDaily.day, a), lte(activityDaily.day, b)))
        .orderBy(asc(activityDaily.day), asc(activityDaily.documentId));
    },
  }),
}));
