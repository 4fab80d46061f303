import { sql } from 'drizzle-orm';
import { requireDocument } from '../auth/access.js';
import type { RequestContext } from '../context.js';
import { versions } from '../db/schema.js';
import { checkText } from '../validation.js';
import { codePointLength } from '../crdt/text.js';

export interface VersionRow {
  id: string;
  documentId: string;
  kind: 'NAMED' | 'AUTO';
  authorIds: string[];
  name: string;
  description: string | null;
  frontier: [string, number][];
  serverOrder: number;
  authorId: string;
  editCount: number | null;
  length: number | null;
  createdAt: Date;
}

/** Checks a version's name (trimmed, 1 to 200 code points) and description (at most 2,000). */
export function checkVersionText(name: string, description: string | null | undefined): { name: string; description: string | null } {
  return {
    name: checkText(name.trim(), 'name', 200, { allowEmpty: false }),
    description: description == null ? null : checkText(description, 'description', 2_000),
  };
}

/** Records the document's current (committed) version under a name. The history itself is never touched. */
export async function createVersion(ctx: RequestContext, input: { documentId: string; name: string; description?: string | null }): Promise<VersionRow> {
  const doc = await requireDocument(ctx, input.documentId);
  const text = checkVersionText(input.name, input.description);
  // Frontier and the rows it covers, read together at one committed point.
  await doc.drain();
  const serverOrder = doc.appliedOrder;
  // (read() takes its committed point before it first waits: the same as serverOrder's.)
  const { content, version: frontier } = await doc.read();
  const [row] = await ctx.services.db
    .insert(versions)
    .values({
      documentId: doc.id,
      kind: 'NAMED',
      ...text,
      frontier,
      serverOrder,
      authorId: ctx.viewer!.userId,
      authorIds: [ctx.viewer!.userId],
      editCount: sql`(SELECT coalesce(sum(edits), 0) FROM operations WHERE document_id = ${doc.id} AND server_order <= ${serverOrder})`,
      length: codePointLength(content),
    })
    .returning();
  return row as VersionRow;
}
