import type { Db } from '../db/client.js';
import { auditLog } from '../db/schema.js';
import type { ClientInfo, Viewer } from '../auth/viewer.js';

/** Everything the audit log records, by name. */
export type AuditAction =
  | 'user.signed_up'
  | 'session.signed_in'
  | 'session.sign_in_failed'
  | 'session.signed_out'
  | 'session.revoked'
  | 'password.changed'
  | 'api_key.created'
  | 'api_key.revoked'
  | 'api_key.used'
  | 'document.created'
  | 'document.renamed'
  | 'document.deleted'
  | 'document.restored'
  | 'document.purged'
  | 'document.forked'
  | 'document.joined'
  | 'document.edited'
  | 'share.granted'
  | 'share.updated'
  | 'share.revoked'
  | 'share_link.created'
  | 'share_link.revoked'
  | 'share_link.redeemed'
  | 'ownership.transferred';

export interface AuditEntry {
  action: AuditAction;
  actorId?: string | null;
  apiKeyId?: string | null;
  documentId?: string | null;
  targetUserId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  /** Ids, names and counts only: never a password, token or secret. */
  details?: Record<string, unknown>;
}

/** An entry made by the caller of a request: who, with which key, from where. */
export function byViewer(viewer: Viewer, client: ClientInfo | null, entry: Omit<AuditEntry, 'actorId' | 'apiKeyId' | 'ip' | 'userAgent'>): AuditEntry {
  return {
    ...entry,
    actorId: viewer.userId,
    apiKeyId: viewer.credential.kind === 'apiKey' ? viewer.credential.id : null,
    ip: client?.ip ?? null,
    userAgent: client?.userAgent ?? null,
  };
}

/** Appends entries (in the caller's transaction when given one). */
export async function recordAudit(db: Pick<Db, 'insert'>, ...entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await db.insert(auditLog).values(
    entries.map((e) => ({
      action: e.action,
      actorId: e.actorId ?? null,
      apiKeyId: e.apiKeyId ?? null,
      documentId: e.documentId ?? null,
      targetUserId: e.targetUserId ?? null,
      ip: e.ip?.slice(0, 100) ?? null,
      userAgent: e.userAgent?.slice(0, 500) ?? null,
      details: e.details ?? {},
    })),
  );
}
