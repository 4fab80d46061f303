import type { Viewer } from './viewer.js';

/** What an API key may do. A session may do all of it. */
export const API_SCOPES = ['documents:read', 'documents:write', 'documents:share'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/** Writing and sharing a document both need to read it, so those scopes include reading. */
const IMPLIED: Record<ApiScope, ApiScope[]> = {
  'documents:read': ['documents:read'],
  'documents:write': ['documents:write', 'documents:read'],
  'documents:share': ['documents:share', 'documents:read'],
};

/** Whether the caller's credential allows `scope` (a session always does). */
export function allowsScope(viewer: Viewer | null, scope: ApiScope): boolean {
  if (!viewer) return false;
  const c = viewer.credential;
  return c.kind === 'session' || c.scopes.some((s) => IMPLIED[s].includes(scope));
}
