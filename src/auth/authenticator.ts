import type { Logger } from 'pino';
import { recordAudit } from '../audit/auditLog.js';
import type { Db } from '../db/client.js';
import { AppError, ErrorCode, isUnavailable } from '../errors.js';
import type { ApiKeys } from './apiKeys.js';
import type { SessionStore } from './sessionStore.js';
import { API_KEY_PREFIX } from './tokens.js';
import type { ClientInfo, Viewer } from './viewer.js';

const CACHE_MS = 5_000;
const CACHE_MAX = 10_000;
/** How long past its last check a cached credential is still trusted while its store is unreachable. */
const STALE_MS = 10 * 60_000;

interface Entry {
  viewer: Viewer | null;
  until: number;
  checkedAt: number;
}

/**
 * Turns a bearer token (a session token or an API key) into the caller. Answers are cached for a
 * few seconds per instance so an edit costs no lookup; a revocation anywhere drops them at once
 * (DocumentAccess relays it from every instance).
 */
export class Authenticator {
  private readonly cache = new Map<string, Entry>();
  /** Lookups in flight, so a burst of requests with one token after its entry expired costs one. */
  private readonly inflight = new Map<string, Promise<Viewer | null>>();

  constructor(
    private readonly deps: { sessions: SessionStore; apiKeys: ApiKeys; db: Db; log: Logger },
  ) {}

  /** The caller for a token; null for none. A token that is unknown, expired or revoked is UNAUTHENTICATED. */
  async authenticate(token: string | null, client: ClientInfo | null): Promise<Viewer | null> {
    if (token === null) return null;
    const now = Date.now();
    const hit = this.cache.get(token);
    let viewer: Viewer | null;
    if (hit && hit.until > now) {
      viewer = hit.viewer;
    } else {
      let p = this.inflight.get(token);
      if (!p) {
        p = this.lookup(token, hit, now, client).finally(() => this.inflight.delete(token));
        this.inflight.set(token, p);
      }
      viewer = await p;
    }
    if (!viewer) throw new AppError(ErrorCode.UNAUTHENTICATED, 'the token is invalid, expired or revoked');
    return viewer;
  }

  /** Drops cached answers for revoked credentials. */
  forget(credentialIds: readonly string[]): void {
    const ids = new Set(credentialIds);
    for (const [t, e] of this.cache) if (e.viewer && ids.has(e.viewer.credential.id)) this.cache.delete(t);
  }

  private async lookup(token: string, hit: Entry | undefined, now: number, client: ClientInfo | null): Promise<Viewer | null> {
    let viewer: Viewer | null;
    try {
      viewer = token.startsWith(API_KEY_PREFIX) ? await this.useKey(token, client) : await this.useSession(token);
    } catch (err) {
      // The store is unreachable: a credential checked recently stays valid, so readers of resident
      // documents keep working through the outage (nothing can be revoked meanwhile either).
      if (isUnavailable(err) && hit && hit.checkedAt > now - STALE_MS) return hit.viewer;
      throw err;
    }
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    // Trusted for at most half its remaining life, so a session in use is looked up (and its expiry
    // slid forward) before it can run out.
    const expires = viewer?.credential.expiresAt?.getTime() ?? Infinity;
    this.cache.set(token, { viewer, until: Math.min(now + CACHE_MS, now + (expires - now) / 2), checkedAt: now });
    return viewer;
  }

  private async useSession(token: string): Promise<Viewer | null> {
    const s = await this.deps.sessions.use(token);
    return s && { userId: s.userId, email: s.email, displayName: s.displayName, credential: { kind: 'session', id: s.sessionId, expiresAt: s.expiresAt } };
  }

  private async useKey(secret: string, client: ClientInfo | null): Promise<Viewer | null> {
    const k = await this.deps.apiKeys.use(secret);
    if (!k) return null;
    if (k.firstUseInAnHour) {
      // Key use is summarised: one record per key per hour of use, not one per request.
      await recordAudit(this.deps.db, { action: 'api_key.used', actorId: k.userId, apiKeyId: k.keyId, ip: client?.ip, userAgent: client?.userAgent }).catch((err) =>
        this.deps.log.warn({ err }, 'api key use not audited'),
      );
    }
    return { userId: k.userId, email: k.email, displayName: k.displayName, credential: { kind: 'apiKey', id: k.keyId, scopes: k.scopes, expiresAt: k.expiresAt } };
  }
}
