import { requireDocument } from '../auth/access.js';
import type { Cursor, Participant, PresenceStatus } from '../collab/presenceTypes.js';
import type { RequestContext } from '../context.js';
import type { RemoteVersion } from '../crdt/version.js';

export interface UpdatePresenceInput {
  documentId: string;
  agent: string;
  /** Omitted: unchanged; null: no cursor. */
  cursor?: Cursor | null;
  /** The version the cursor positions refer to; omitted or null: the current version. */
  version?: RemoteVersion | null;
  status?: PresenceStatus | null;
}

/** Sets where a participant's cursor is and whether they are active. In memory only: never PostgreSQL. */
export async function updatePresence(ctx: RequestContext, input: UpdatePresenceInput): Promise<Participant> {
  const viewer = ctx.viewer!;
  const doc = await requireDocument(ctx, input.documentId);
  await doc.requireAgent(viewer.userId, input.agent);
  const positions = input.cursor ? [input.cursor.anchor, input.cursor.head] : [];
  const version = await doc.cursorVersion(input.version ?? null, positions);
  return ctx.services.presence.update(doc, { agent: input.agent, userId: viewer.userId, displayName: viewer.displayName }, input.cursor, version, input.status);
}
