/**
 * WebSocket close codes this server sends besides graphql-ws's own `CloseCode` (defined once, here).
 * graphql-ws clients reconnect after each of them; a client then resubscribes with `since` = the last
 * version it received and misses nothing.
 */
export const ServerCloseCode = {
  /** RFC 6455 "Service Restart": this instance is shutting down; reconnect (to any instance). */
  ServiceRestart: 1012,
} as const;
