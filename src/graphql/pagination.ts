import { sql, type AnyColumn, type SQL } from 'drizzle-orm';
import { badInput } from '../errors.js';

/** A keyset cursor: a row's creation time (to the microsecond) and id. */
export interface Cursor {
  createdAt: string;
  id: string;
}

export const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify([c.createdAt, c.id])).toString('base64url');

export function decodeCursor(s: string): Cursor {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as [string, string];
    if (typeof createdAt !== 'string' || typeof id !== 'string' || Number.isNaN(Date.parse(createdAt))) throw new Error('bad');
    return { createdAt, id };
  } catch {
    throw badInput('after is not a cursor returned by this connection', { field: 'after' });
  }
}

/** The column as a microsecond ISO string: a JS Date would drop PostgreSQL's microseconds and skip or repeat rows. */
export const cursorTime = (column: AnyColumn): SQL<string> => sql<string>`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Rows strictly after `after`, newest first by (createdAt, id). */
export const olderThan = (createdAt: AnyColumn, id: AnyColumn, after: Cursor | null): SQL | undefined =>
  after ? sql`(${createdAt}, ${id}) < (${after.createdAt}::timestamptz, ${after.id}::uuid)` : undefined;

/** Validates Relay arguments for a newest-first connection that pages forward. */
export function forwardPage(args: { first?: number | null; after?: string | null; last?: number | null; before?: string | null }, what: string) {
  if (args.before || args.last) throw badInput(`${what} pages forward only: use first and after`);
  const first = args.first ?? 20;
  if (first < 0 || first > 100) throw badInput('first must be between 0 and 100', { field: 'first', max: 100 });
  return { first, after: args.after ? decodeCursor(args.after) : null };
}

/** Builds a forward connection from up to first + 1 rows (the extra one says whether there is a next page). */
export function pageOf<R, N>(rows: R[], first: number, hasPreviousPage: boolean, cursor: (r: R) => string, node: (r: R) => N) {
  const edges = rows.slice(0, first).map((r) => ({ cursor: cursor(r), node: node(r) }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
}

/** pageOf for rows paged by (createdAt, id). */
export function connectionOf<R extends { cursorAt: string; id: string }, N>(rows: R[], first: number, after: Cursor | null, node: (r: R) => N) {
  return pageOf(rows, first, after !== null, (r) => encodeCursor({ createdAt: r.cursorAt, id: r.id }), node);
}
