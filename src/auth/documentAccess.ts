import type pg from 'pg';
import type { Logger } from 'pino';
import { AppError, ErrorCode } from '../errors.js';
import type { Bus } from '../realtime/bus.js';
import type { Topics } from '../realtime/topics.js';
import { atLeast, type Role } from './roles.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (id: string): boolean => UUID.test(id);

/** A user's standing on a document. */
export interface Access {
  /** Null: no access (or no such document). */
  role: Role | null;
  /** The document is in the trash. */
  deleted: boolean;
  /** The document exists at all. */
  exists: boolean;
}

/** An open subscription that must end when its user loses access or its credential is revoked. */
export interface AccessWatch {
  documentId: string;
  userId: string;
  credentialId: string;
  /** The role the subscription was opened with: a lower one ends it too. */
  role: Role;
  end(error: AppError): void;
}

export interface DocumentAccessDeps {
  pool: pg.Pool;
  bus: Bus;
  log: Logger;
  instanceId: string;
}

/** A cached answer is trusted this long even without news (a pub/sub message may be lost in an outage). */
const CACHE_MS = 30_000;
const CACHE_MAX_DOCS = 20_000;
const NONE: Access = { role: null, deleted: false, exists: false };

/**
 * Who may do what with which document, for every request and every open subscription. Roles are
 * cached per instance, so an edit costs no query; every change of access is announced (after its
 * commit) to all instances, which drop their cached answers and end the subscriptions of whoever
 * lost access, within the pub/sub's delivery time.
 */
export class DocumentAccess {
  private readonly cache = new Map<string, { generation: number; users: Map<string, { access: Access; until: number }> }>();
  private readonly watches = new Map<string, Set<AccessWatch>>();
  private readonly byCredential = new Map<string, Set<AccessWatch>>();
  private readonly subscriptions: number[] = [];

  constructor(private readonly deps: DocumentAccessDeps) {}

  async start(): Promise<void> {
    const { bus, instanceId } = this.deps;
    this.subscriptions.push(
      await bus.subscribe('doc.access', (m) => m.origin !== instanceId && this.onAccessChanged(m)),
      await bus.subscribe('auth.revoked', (m) => m.origin !== instanceId && this.onCredentialsRevoked(m.credentialIds)),
    );
  }

  async stop(): Promise<void> {
    for (const id of this.subscriptions.splice(0)) this.deps.bus.unsubscribe(id);
  }

  /** The user's role on the document (cached). */
  async of(documentId: string, userId: string): Promise<Access> {
    if (!isUuid(documentId)) return NONE;
    let doc = this.cache.get(documentId);
    const hit = doc?.users.get(userId);
    if (hit && hit.until > Date.now()) return hit.access;
    const generation = doc?.generation ?? 0;
    const access = await this.read(documentId, userId);
    // An answer read while access changed may be stale: keep it only if nothing changed meanwhile.
    doc = this.cache.get(documentId);
    if ((doc?.generation ?? 0) === generation) {
      if (!doc) {
        if (this.cache.size >= CACHE_MAX_DOCS) this.cache.clear();
        this.cache.set(documentId, (doc = { generation, users: new Map() }));
      }
      doc.users.set(userId, { access, until: Date.now() + CACHE_MS });
    }
    return access;
  }

  private async read(documentId: string, userId: string): Promise<Access> {
    const { rows } = await this.deps.pool.query<{ deleted: boolean; role: Role | null }>(
      `SELECT d.deleted_at IS NOT NULL AS deleted, m.role
         FROM documents d LEFT JOIN document_members m ON m.document_id = d.id AND m.user_id = $2
        WHERE d.id = $1`,
      [documentId, userId],
    );
    const row = rows[0];
    return row ? { role: row.role, deleted: row.deleted, exists: true } : NONE;
  }

  /**
   * Announces, after the commit that changed it, that access to a document changed for these users
   * (null: for anyone; []: nobody's access, only the document's row, such as its title). Never throws: other instances' caches expire on their own if the message is lost.
   */
  async changed(documentId: string, userIds: string[] | null, deleted = false): Promise<void> {
    const message = { origin: this.deps.instanceId, documentId, userIds, deleted };
    this.onAccessChanged(message);
    await this.deps.bus.publish('doc.access', message).catch((err) => this.deps.log.warn({ err, documentId }, 'access change not announced'));
  }

  /** Announces that credentials were revoked: their subscriptions end here and on every instance. */
  async credentialsRevoked(credentialIds: string[]): Promise<void> {
    if (credentialIds.length === 0) return;
    this.onCredentialsRevoked(credentialIds);
    await this.deps.bus.publish('auth.revoked', { origin: this.deps.instanceId, credentialIds }).catch((err) => this.deps.log.warn({ err }, 'revocation not announced'));
  }

  /** Registers a subscription to end on loss of access; returns its unregistration. */
  watch(w: AccessWatch): () => void {
    add(this.watches, w.documentId, w);
    add(this.byCredential, w.credentialId, w);
    return () => {
      remove(this.watches, w.documentId, w);
      remove(this.byCredential, w.credentialId, w);
    };
  }

  /** Listeners told of every credential revocation (from any instance): caches of tokens. */
  readonly credentialListeners = new Set<(ids: string[]) => void>();

  private onCredentialsRevoked(ids: string[]): void {
    for (const l of this.credentialListeners) l(ids);
    for (const id of ids) {
      for (const w of [...(this.byCredential.get(id) ?? [])]) w.end(new AppError(ErrorCode.FORBIDDEN, 'your session or API key was revoked', { reason: 'CREDENTIAL_REVOKED' }));
    }
  }

  /** Listeners told of every change to a document's row or access (from any instance). */
  readonly changeListeners = new Set<(documentId: string) => void>();

  private onAccessChanged(m: Topics['doc.access']): void {
    for (const l of this.changeListeners) l(m.documentId);
    const doc = this.cache.get(m.documentId);
    if (doc) {
      doc.generation++;
      if (m.userIds === null) doc.users.clear();
      else for (const u of m.userIds) doc.users.delete(u);
    } else {
      this.cache.set(m.documentId, { generation: 1, users: new Map() });
    }
    const affected = [...(this.watches.get(m.documentId) ?? [])].filter((w) => m.userIds === null || m.userIds.includes(w.userId));
    for (const w of affected) {
      void this.of(w.documentId, w.userId).then(
        (now) => {
          if (now.deleted || !now.exists) w.end(new AppError(ErrorCode.NOT_FOUND, 'the document was deleted', { reason: 'DOCUMENT_DELETED' }));
          else if (!now.role) w.end(new AppError(ErrorCode.FORBIDDEN, 'your access to this document was revoked', { reason: 'ACCESS_REVOKED' }));
          else if (!atLeast(now.role, w.role)) w.end(new AppError(ErrorCode.FORBIDDEN, `your role on this document is now ${now.role}; subscribe again`, { reason: 'ROLE_CHANGED', role: now.role }));
        },
        (err) => this.deps.log.warn({ err, documentId: w.documentId }, 'access re-check failed'),
      );
    }
  }
}

function add<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}

function remove<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}
