import type { ApiScope } from './apiScopes.js';

/** How the caller proved who they are. */
export type Credential =
  | { kind: 'session'; id: string; expiresAt: Date }
  | { kind: 'apiKey'; id: string; scopes: readonly ApiScope[]; expiresAt: Date | null };

/** The signed-in caller of a request or subscription. */
export interface Viewer {
  userId: string;
  email: string;
  displayName: string;
  credential: Credential;
}

/** Where a request came from, for the audit log and rate limits. */
export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}
