import type pg from 'pg';
import type { Logger } from 'pino';
import type { Sessions, Viewer } from './auth/sessions.js';
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
  sessions: Sessions;
  documents: Documents;
  presence: Presence;
}

/** Per-request (or per-WebSocket-connection) GraphQL context. */
export interface RequestContext {
  services: Services;
  /** The signed-in user; null when no credentials were sent. */
  viewer: Viewer | null;
}
