import { requireDocument } from '../auth/access.js';
import type { RequestContext } from '../context.js';
import { versions } from '../db/schema.js';
import { badInput } from '../errors.js';
import { hasLoneSurrogate } from '../crdt/text.js';

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
  createdAt: Date;
}

/** Checks a version's name and description (trimmed name, 1..200 code points, no lone surrogates). */
export function checkVersionText(name: string, description: string | null | undefined): { name: string; description: string | null } {
  const n = name.trim();
  if (n.length === 0 || Array.from(n).length > 200) throw badInput('name must be 1 to 200 characters', { field: 'name', max: 200 });
  if (description != null && Array.from(description).length > 2000) throw badInput('description must be at most 2000 characters', { field: 'description', max: 2000 });
  if (hasLoneSurrogate(n) || (description != null && hasLoneSurrogate(description))) throw badInput('text must not contain lone surrogates');
  return { name: n, description: description ?? null };
}

/** Records the document's current (committed) version under a name. The history itself is never touched. */
export async function createVersion(ctx: RequestContext, input: { documentId: string; name: string; description?: string | null }): Promise<VersionRow> {
  const doc = await requireDocument(ctx, input.documentId);
  const text = checkVersionText(input.name, input.description);
  // Frontier and the rows it covers, read together at one committed point.
  await doc.drain();
  const frontier = doc.version();
  const [row] = await ctx.services.db
    .insert(versions)
    .values({ documentId: doc.id, kind: 'NAMED', ...text, frontier, serverOrder: doc.appliedOrder, authorId: ctx.viewer!.userId, authorIds: [ctx.viewer!.userId] })
    .returning();
  return row as VersionRow;
}
