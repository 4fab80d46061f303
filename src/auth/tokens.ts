import { createHash, randomBytes } from 'node:crypto';

/** A new opaque session token: a recognisable prefix and 256 bits of randomness. */
export function newSessionToken(): string {
  return `cws_${randomBytes(32).toString('base64url')}`;
}

/** What is stored for a token: its sha256. The token itself never reaches the database or the logs. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Reads a bearer token from an `Authorization` value. */
export function bearerToken(header: string | null | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : null;
}
