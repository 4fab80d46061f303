import { requireDocument } from '../auth/access.js';
import type { RequestContext } from '../context.js';
import type { RemoteVersion } from '../crdt/version.js';
import { createDocument } from './createDocument.js';

/**
 * Creates a new document, owned by the caller, whose text is the source's text at `version` (null:
 * the current one). The new document's history starts there (flattened): one insert by the caller.
 */
export async function forkDocument(ctx: RequestContext, input: { documentId: string; version: RemoteVersion | null; title: string }): Promise<string> {
  const source = await requireDocument(ctx, input.documentId);
  const content = input.version ? await source.textAtVersion(input.version) : source.content();
  return createDocument(ctx, { title: input.title, content });
}
