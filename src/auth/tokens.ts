import { createHash, randomBytes } from 'node:crypto';

/** A new opaque secret: a recognisable prefix and 256 bits of randomness. */
function newSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

/** Session tokens (signUp, logIn). */
export const SESSION_PREFIX = 'cws_';
/** API keys (createApiKey): a secret scanner can tell them apart from session tokens. */
export const API_KEY_PREFIX = 'cwk_';
/** Share-link tokens (createShareLink). */
export const SHARE_LINK_PREFIX = 'cwl_';

export const newSessionToken = (): string => newSecret(SESSION_PREFIX);
export const newApiKeySecret = (): string => newSecret(API_KEY_PREFIX);
export const newShareLinkToken = (): string => newSecret(SHARE_LINK_PREFIX);

/** What is stored for a secret: its sha256. The secret itself never reaches the database or the logs. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Reads a bearer token from an `Authorization` value. */
export function bearerToken(header: string | null | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : null;
}
