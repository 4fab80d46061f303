import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { newSessionToken, tokenHash } from './tokens.js';
import type { ClientInfo } from './viewer.js';

/** A signed-in session as `sessions` lists it. */
export interface SessionRecord {
  id: string;
  userId: string;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
  ip: string | null;
  userAgent: string | null;
}

/** Who a valid session token belongs to. */
export interface SessionHolder {
  sessionId: string;
  userId: string;
  email: string;
  displayName: string;
  expiresAt: Date;
}

export interface SessionUser {
  id: string;
  email: string;
  displayName: string;
}

/**
 * Where sessions live: Redis (with a TTL) when it is configured, PostgreSQL otherwise. Each use
 * slides the expiry forward by the session lifetime. Only a token's hash is ever stored.
 */
export interface SessionStore {
  readonly kind: 'redis' | 'postgres';
  /** Starts a session; returns its bearer token (shown once) and id. */
  create(user: SessionUser, client: ClientInfo): Promise<{ token: string; sessionId: string }>;
  /** The holder of a live token, sliding its expiry; null when unknown, expired or revoked. */
  use(token: string): Promise<SessionHolder | null>;
  /** A user's live sessions, newest first. */
  list(userId: string): Promise<SessionRecord[]>;
  /** Revokes the user's sessions with these ids (all of them when null), except `keep`; returns the ids revoked. */
  revoke(userId: string, ids: string[] | null, keep?: string): Promise<string[]>;
}

export class PostgresSessionStore implements SessionStore {
  readonly kind = 'postgres';

  constructor(
    private readonly pool: pg.Pool,
    private readonly ttlSeconds: number,
  ) {}

  async create(user: SessionUser, client: ClientInfo): Promise<{ token: string; sessionId: string }> {
    const token = newSessionToken();
    const { rows } = await this.pool.query<{ id: string }>(
      `INSERT INTO sessions (user_id, token_hash, expires_at, ip, user_agent)
       VALUES ($1, $2, now() + make_interval(secs => $3), $4, $5) RETURNING id`,
      [user.id, tokenHash(token), this.ttlSeconds, client.ip, client.userAgent],
    );
    return { token, sessionId: rows[0]!.id };
  }

  async use(token: string): Promise<SessionHolder | null> {
    const { rows } = await this.pool.query<{ session_id: string; user_id: string; email: string; display_name: string; expires_at: Date }>(
      `UPDATE sessions s SET last_used_at = now(), expires_at = now() + make_interval(secs => $2)
         FROM users u
        WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now() AND u.id = s.user_id
        RETURNING s.id AS session_id, u.id AS user_id, u.email, u.display_name, s.expires_at`,
      [tokenHash(token), this.ttlSeconds],
    );
    const r = rows[0];
    return r ? { sessionId: r.session_id, userId: r.user_id, email: r.email, displayName: r.display_name, expiresAt: r.expires_at } : null;
  }

  async list(userId: string): Promise<SessionRecord[]> {
    const { rows } = await this.pool.query(
      `SELECT id, user_id AS "userId", created_at AS "createdAt", last_used_at AS "lastUsedAt", expires_at AS "expiresAt", ip, user_agent AS "userAgent"
         FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now() ORDER BY created_at DESC, id DESC`,
      [userId],
    );
    return rows as SessionRecord[];
  }

  async revoke(userId: string, ids: string[] | null, keep?: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `UPDATE sessions SET revoked_at = now()
        WHERE user_id = $1 AND revoked_at IS NULL AND ($2::uuid[] IS NULL OR id = ANY($2::uuid[])) AND ($3::uuid IS NULL OR id <> $3::uuid)
        RETURNING id`,
      [userId, ids, keep ?? null],
    );
    return rows.map((r) => r.id);
  }
}


/**
 * Sessions in Redis: the token's hash names the session id, the session is a hash, and each user has
 * a sorted set of session ids (by creation). All three expire with the session; each use renews them.
 */
export class RedisSessionStore implements SessionStore {
  readonly kind = 'redis';
  private readonly sessionKey: string;
  private readonly tokenKey: string;
  private readonly userKey: string;

  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
    prefix = 'cowrite:',
  ) {
    this.sessionKey = `${prefix}session:`;
    this.tokenKey = `${prefix}session-token:`;
    this.userKey = `${prefix}user-sessions:`;
  }

  async create(user: SessionUser, client: ClientInfo): Promise<{ token: string; sessionId: string }> {
    const token = newSessionToken();
    const sessionId = randomUUID();
    const now = Date.now();
    const ttl = this.ttlSeconds;
    await this.redis
      .multi()
      .hset(this.sessionKey + sessionId, {
        userId: user.id,
        email: user.email,
        displayName: user.displayName,
        tokenHash: tokenHash(token),
        createdAt: String(now),
        lastUsedAt: String(now),
        ip: client.ip ?? '',
        userAgent: client.userAgent ?? '',
      })
      .expire(this.sessionKey + sessionId, ttl)
      .set(this.tokenKey + tokenHash(token), sessionId, 'EX', ttl)
      .zadd(this.userKey + user.id, now, sessionId)
      .expire(this.userKey + user.id, ttl)
      .exec();
    return { token, sessionId };
  }

  async use(token: string): Promise<SessionHolder | null> {
    const ttl = this.ttlSeconds;
    const hash = tokenHash(token);
    const sessionId = await this.redis.getex(this.tokenKey + hash, 'EX', ttl);
    if (!sessionId) return null;
    const results = await this.redis
      .multi()
      .hgetall(this.sessionKey + sessionId)
      .hset(this.sessionKey + sessionId, 'lastUsedAt', String(Date.now()))
      .expire(this.sessionKey + sessionId, ttl)
      .exec();
    const s = (results?.[0]?.[1] ?? {}) as Record<string, string>;
    if (!s.userId || s.tokenHash !== hash) {
      // Revoked between the two reads (the hash is gone): undo the renewal's half-made key.
      await this.redis.del(this.sessionKey + sessionId, this.tokenKey + hash);
      return null;
    }
    await this.redis.expire(this.userKey + s.userId, ttl);
    return { sessionId, userId: s.userId, email: s.email!, displayName: s.displayName!, expiresAt: new Date(Date.now() + ttl * 1000) };
  }

  async list(userId: string): Promise<SessionRecord[]> {
    const ids = await this.redis.zrevrange(this.userKey + userId, 0, -1);
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.sessionKey + id).pttl(this.sessionKey + id);
    const results = (await pipeline.exec()) ?? [];
    const out: SessionRecord[] = [];
    const gone: string[] = [];
    ids.forEach((id, i) => {
      const s = results[2 * i]?.[1] as Record<string, string> | undefined;
      const pttl = Number(results[2 * i + 1]?.[1] ?? -2);
      if (!s?.userId || pttl <= 0) {
        gone.push(id);
        return;
      }
      out.push({
        id,
        userId,
        createdAt: new Date(Number(s.createdAt)),
        lastUsedAt: new Date(Number(s.lastUsedAt)),
        expiresAt: new Date(Date.now() + pttl),
        ip: s.ip || null,
        userAgent: s.userAgent || null,
      });
    });
    if (gone.length > 0) await this.redis.zrem(this.userKey + userId, ...gone);
    return out;
  }

  async revoke(userId: string, ids: string[] | null, keep?: string): Promise<string[]> {
    const candidates = (ids ?? (await this.redis.zrange(this.userKey + userId, 0, -1))).filter((id) => id !== keep);
    const revoked: string[] = [];
    for (const id of candidates) {
      const [owner, hash] = await this.redis.hmget(this.sessionKey + id, 'userId', 'tokenHash');
      if (owner !== userId) continue;
      await this.redis
        .multi()
        .del(this.sessionKey + id)
        .del(this.tokenKey + hash!)
        .zrem(this.userKey + userId, id)
        .exec();
      revoked.push(id);
    }
    return revoked;
  }
}
