import type pg from 'pg';
import { AppError, ErrorCode } from '../errors.js';
import { newSessionToken, tokenHash } from './tokens.js';

export interface Viewer {
  userId: string;
  email: string;
  displayName: string;
  sessionId: string;
}

const CACHE_MS = 5_000;
const CACHE_MAX = 10_000;

/**
 * Session tokens stored as hashes in PostgreSQL. Lookups are cached for a few seconds so an edit
 * does not cost a query; a revocation on this instance drops the cache entry at once.
 */
export class Sessions {
  private readonly cache = new Map<string, { viewer: Viewer | null; until: number }>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly ttlSeconds: number,
  ) {}

  /** Creates a session for a user and returns its bearer token (shown once). */
  async create(userId: string, client: pg.PoolClient | pg.Pool = this.pool): Promise<{ token: string; sessionId: string }> {
    const token = newSessionToken();
    const res = await client.query<{ id: string }>(
      `INSERT INTO sessions (user_id, token_hash, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3)) RETURNING id`,
      [userId, tokenHash(token), this.ttlSeconds],
    );
    return { token, sessionId: res.rows[0]!.id };
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
      const h = tokenHash(token);
      const res = await this.pool.query<{ session_id: string; user_id: string; email: string; display_name: string }>(
        `SELECT s.id AS session_id, u.id AS user_id, u.email, u.display_name
           FROM sessions s JOIN users u ON u.id = s.user_id
          WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()`,
        [h],
      );
      const r = res.rows[0];
      viewer = r ? { userId: r.user_id, email: r.email, displayName: r.display_name, sessionId: r.session_id } : null;
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      this.cache.set(token, { viewer, until: now + CACHE_MS });
    }
    if (!viewer) throw new AppError(ErrorCode.UNAUTHENTICATED, 'the token is invalid, expired or revoked');
    return viewer;
  }

  /** Revokes one session. */
  async revoke(sessionId: string): Promise<void> {
    await this.pool.query('UPDATE sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [sessionId]);
    for (const [h, e] of this.cache) if (e.viewer?.sessionId === sessionId) this.cache.delete(h);
  }
}
