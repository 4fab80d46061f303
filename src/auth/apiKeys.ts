import { and, eq, isNull } from 'drizzle-orm';
import type pg from 'pg';
import type { Db } from '../db/client.js';
import { apiKeys } from '../db/schema.js';
import type { ApiScope } from './apiScopes.js';
import { newApiKeySecret, tokenHash } from './tokens.js';

export interface ApiKeyRecord {
  id: string;
  userId: string;
  name: string;
  /** The secret's first characters, to tell keys apart. */
  prefix: string;
  scopes: ApiScope[];
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

/** Who a live API key belongs to, and whether this use should be recorded (the first in an hour). */
export interface ApiKeyHolder {
  keyId: string;
  userId: string;
  email: string;
  displayName: string;
  scopes: ApiScope[];
  expiresAt: Date | null;
  firstUseInAnHour: boolean;
}

const COLUMNS = `id, user_id AS "userId", name, prefix, scopes, created_at AS "createdAt", last_used_at AS "lastUsedAt", expires_at AS "expiresAt", revoked_at AS "revokedAt"`;

/** API keys in PostgreSQL: the secret is shown once, only its hash is stored. */
export class ApiKeys {
  constructor(private readonly pool: pg.Pool) {}

  /** Creates a key (in the caller's transaction). */
  async create(db: Pick<Db, 'insert'>, userId: string, name: string, scopes: ApiScope[], expiresAt: Date | null): Promise<{ secret: string; key: ApiKeyRecord }> {
    const secret = newApiKeySecret();
    const [row] = await db
      .insert(apiKeys)
      .values({ userId, name, prefix: secret.slice(0, 12), keyHash: tokenHash(secret), scopes, expiresAt })
      .returning();
    const { keyHash: _hash, ...key } = row!;
    return { secret, key: key as ApiKeyRecord };
  }

  /** The holder of a live key (not revoked, not expired), noting its use. */
  async use(secret: string): Promise<ApiKeyHolder | null> {
    const { rows } = await this.pool.query<{ id: string; user_id: string; email: string; display_name: string; scopes: ApiScope[]; expires_at: Date | null; first: boolean }>(
      `WITH k AS (
         SELECT id, last_used_at FROM api_keys
          WHERE key_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
       )
       UPDATE api_keys a SET last_used_at = now()
         FROM k, users u
        WHERE a.id = k.id AND u.id = a.user_id
        RETURNING a.id, a.user_id, u.email, u.display_name, a.scopes, a.expires_at,
                  (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 hour') AS first`,
      [tokenHash(secret)],
    );
    const r = rows[0];
    return r
      ? { keyId: r.id, userId: r.user_id, email: r.email, displayName: r.display_name, scopes: r.scopes, expiresAt: r.expires_at, firstUseInAnHour: r.first }
      : null;
  }

  /** The user's keys, newest first (revoked ones included, marked). */
  async list(userId: string): Promise<ApiKeyRecord[]> {
    const { rows } = await this.pool.query<ApiKeyRecord>(`SELECT ${COLUMNS} FROM api_keys WHERE user_id = $1 ORDER BY created_at DESC, id DESC`, [userId]);
    return rows;
  }

  /** Revokes one of the user's keys; false when it is not theirs or already revoked. */
  async revoke(db: Pick<Db, 'update'>, userId: string, keyId: string): Promise<boolean> {
    const rows = await db
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiKeys.id, keyId), eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)))
      .returning({ id: apiKeys.id });
    return rows.length > 0;
  }
}
