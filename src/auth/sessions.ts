import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { sessions, users } from '../db/schema.js';
import { AppError, ErrorCode, isUnavailable } from '../errors.js';
import { newSessionToken, tokenHash } from './tokens.js';

export interface Viewer {
  userId: string;
  email: string;
  displayName: string;
  sessionId: string;
}

/** A drizzle database or an open transaction on it. */
type Tx = Pick<Db, 'insert' | 'select' | 'update'>;

const CACHE_MS = 5_000;
const CACHE_MAX = 10_000;
/** How long past its expiry a cached session is still trusted while PostgreSQL is unreachable. */
const STALE_MS = 10 * 60_000;

function requireViewer(viewer: Viewer | null): Viewer {
  if (!viewer) throw new AppError(ErrorCode.UNAUTHENTICATED, 'the token is invalid, expired or revoked');
  return viewer;
}

/**
 * Session tokens stored as hashes in PostgreSQL. Lookups are cached for a few seconds so an edit
 * does not cost a query; a revocation on this instance drops the cache entry at once.
 */
export class Sessions {
  private readonly cache = new Map<string, { viewer: Viewer | null; until: number }>();
  /** Lookups in flight, so a burst of requests with one token after its entry expired costs one query. */
  private readonly inflight = new Map<string, Promise<Viewer | null>>();

  constructor(
    private readonly db: Db,
    private readonly ttlSeconds: number,
  ) {}

  /** Creates a session for a user and returns its bearer token (shown once). */
  async create(userId: string, tx: Tx = this.db): Promise<{ token: string; sessionId: string }> {
    const token = newSessionToken();
    const [row] = await tx
      .insert(sessions)
      .values({ userId, tokenHash: tokenHash(token), expiresAt: sql`now() + make_interval(secs => ${this.ttlSeconds})` })
      .returning({ id: sessions.id });
    return { token, sessionId: row!.id };
  }

  /** The signed-in user for a token; null for none. A token that is unknown, expired or revoked is UNAUTHENTICATED. */
  async authenticate(token: string | null): Promise<Viewer | null> {
    if (token === null) return null;
    // Cached by the token itself (in memory only), so a cached lookup costs no hashing.
    const now = Date.now();
    const hit = this.cache.get(token);
    let viewer: Viewer | null;
    if (hit && hit.until > now) {
      viewer = hit.viewer;
    } else {
      let p = this.inflight.get(token);
      if (!p) {
        p = this.lookup(token, hit, now).finally(() => this.inflight.delete(token));
        this.inflight.set(token, p);
      }
      viewer = await p;
    }
    return requireViewer(viewer);
  }

  private async lookup(token: string, hit: { viewer: Viewer | null; until: number } | undefined, now: number): Promise<Viewer | null> {
    let rows;
    try {
      rows = await this.db
        .select({ sessionId: sessions.id, userId: users.id, email: users.email, displayName: users.displayName })
        .from(sessions)
        .innerJoin(users, eq(users.id, sessions.userId))
        .where(and(eq(sessions.tokenHash, tokenHash(token)), isNull(sessions.revokedAt), gt(sessions.expiresAt, sql`now()`)));
    } catch (err) {
      // PostgreSQL unreachable: a session seen recently stays valid, so readers of resident
      // documents keep working through the outage (nothing can be revoked meanwhile either).
      if (isUnavailable(err) && hit && hit.until > now - STALE_MS) return hit.viewer;
      throw err;
    }
    const viewer = rows[0] ?? null;
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(token, { viewer, until: now + CACHE_MS });
    return viewer;
  }

  /** Revokes one session. */
  async revoke(sessionId: string): Promise<void> {
    await this.db.update(sessions).set({ revokedAt: sql`now()` }).where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)));
    for (const [t, e] of this.cache) if (e.viewer?.sessionId === sessionId) this.cache.delete(t);
  }
}
