import type pg from 'pg';
import type { Logger } from 'pino';
import type { ApiKeys } from './auth/apiKeys.js';
import type { Authenticator } from './auth/authenticator.js';
import type { DocumentAccess } from './auth/documentAccess.js';
import type { RateLimits } from './auth/rateLimits.js';
import type { SessionStore } from './auth/sessionStore.js';
import type { ClientInfo, Viewer } from './auth/viewer.js';
import type { Documents } from './collab/documents.js';
import type { Presence } from './collab/presence.js';
import type { Config } from './config.js';
import type { Db } from './db/client.js';

/** The long-lived parts a request may use. */
export interface Services {
  config: Config;
  log: Logger;
  pool: pg.Pool;
  db: Db;
  auth: Authenticator;
  sessions: SessionStore;
  apiKeys: ApiKeys;
  access: DocumentAccess;
  rateLimits: RateLimits;
  documents: Documents;
  presence: Presence;
}

/** Per-request (or per-WebSocket-operation) GraphQL context. */
export interface RequestContext {
  services: Services;
  /** The signed-in caller; null when no credentials were sent. */
  viewer: Viewer | null;
  /** Where the request came from. */
  client: ClientInfo;
}
