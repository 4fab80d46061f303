/**
 * Whether a browser Origin may use the API with credentials: the server's own origin (its pages,
 * GraphiQL) and the configured CORS_ORIGINS. A missing Origin is not a browser's cross-site request.
 */
export function isAllowedOrigin(allowed: readonly string[], origin: string | null | undefined, host: string | null | undefined): boolean {
  if (!origin) return false;
  return allowed.includes(origin) || origin === `http://${host}` || origin === `https://${host}`;
}
