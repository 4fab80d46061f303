import { sql } from 'drizzle-orm';
import { bigint, bigserial, customType, date, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

/** A remote version: [[agent, seq], ...], as diamond-types prints it. */
export type RemoteVersion = [string, number][];

export const users = pgTable('users', {
  id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
  email: text('email').notNull(),
  passwordHash: text('password_hash').notNull(),
  displayName: text('display_name').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [uniqueIndex('users_email_key').on(t.email)]);

export const sessions = pgTable('sessions', {
  id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
  userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  /** sha256 of the bearer token; the token itself is never stored. */
  tokenHash: text('token_hash').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }).notNull().defaultNow(),
  /** Where the session was created (client address and User-Agent), for `sessions`. */
  ip: text('ip'),
  userAgent: text('user_agent'),
}, (t) => [uniqueIndex('sessions_token_hash_key').on(t.tokenHash), index('sessions_user_idx').on(t.userId)]);

export const documents = pgTable('documents', {
  id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
  ownerId: uuid('owner_id').notNull().references(() => users.id),
  title: text('title').notNull(),
  /** How many operation rows the document has had: the last assigned server order. */
  opCount: bigint('op_count', { mode: 'number' }).notNull().default(0),
  /** Inserted plus deleted code points over all operation rows (what a replay costs). */
  eventCount: bigint('event_count', { mode: 'number' }).notNull().default(0),
  /** Operation rows covered by automatic versions so far: later rows are the open burst of activity. */
  versionedOrder: bigint('versioned_order', { mode: 'number' }).notNull().default(0),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  /** In the trash since (deleteDocument); purged with its history once past retention. */
  deletedAt: timestamp('deleted_at', { withTimezone: true }),
  deletedBy: uuid('deleted_by').references(() => users.id),
}, (t) => [index('documents_owner_created_idx').on(t.ownerId, t.createdAt)]);

/** Who may do what with a document: one row per user with access, the owner included (role OWNER). */
export const documentMembers = pgTable('document_members', {
  documentId: uuid('document_id').notNull().references(() => documents.id, { onDelete: 'cascade' }),
  userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  role: text('role').$type<'OWNER' | 'EDITOR' | 'VIEWER'>().notNull(),
  /** Who granted it (null for the creator's own OWNER row). */
  grantedBy: uuid('granted_by').references(() => users.id),
  /** The share link it was redeemed from, if any. */
  viaLinkId: uuid('via_link_id'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.documentId, t.userId] }), index('document_members_user_idx').on(t.userId, t.createdAt)]);

/** Revocable links that grant VIEWER or EDITOR to whoever redeems them. Only the token's hash is stored. */
export const shareLinks = pgTable('share_links', {
  id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
  documentId: uuid('document_id').notNull().references(() => documents.id, { onDelete: 'cascade' }),
  tokenHash: text('token_hash').notNull(),
  role: text('role').$type<'EDITOR' | 'VIEWER'>().notNull(),
  createdBy: uuid('created_by').notNull().references(() => users.id),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
}, (t) => [uniqueIndex('share_links_token_hash_key').on(t.tokenHash), index('share_links_document_idx').on(t.documentId)]);

/** API keys: act as their user within their scopes. Only the secret's hash is stored. */
export const apiKeys = pgTable('api_keys', {
  id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
  userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  name: text('name').notNull(),
  /** The first characters of the secret, shown to tell keys apart. */
  prefix: text('prefix').notNull(),
  keyHash: text('key_hash').notNull(),
  scopes: jsonb('scopes').$type<string[]>().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  expiresAt: timestamp('expires_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
}, (t) => [uniqueIndex('api_keys_key_hash_key').on(t.keyHash), index('api_keys_user_idx').on(t.userId)]);

/** Append-only record of who did what, when, from where. */
export const auditLog = pgTable('audit_log', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  /** The user who acted (null for a failed sign-in by an unknown email). */
  actorId: uuid('actor_id'),
  /** The API key the actor used, if any. */
  apiKeyId: uuid('api_key_id'),
  action: text('action').notNull(),
  /** The document concerned, if any (kept after the document is purged). */
  documentId: uuid('document_id'),
  /** The other user concerned (a share's grantee), if any. */
  targetUserId: uuid('target_user_id'),
  ip: text('ip'),
  userAgent: text('user_agent'),
  details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
}, (t) => [index('audit_log_actor_idx').on(t.actorId, t.id), index('audit_log_document_idx').on(t.documentId, t.id), index('audit_log_at_idx').on(t.at)]);

/** Agents issued by joinDocument (and createDocument): who may write under which agent name. */
export const documentAgents = pgTable('document_agents', {
  documentId: uuid('document_id').notNull().references(() => documents.id, { onDelete: 'cascade' }),
  agent: text('agent').notNull(),
  userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.documentId, t.agent] })]);

/** The operation log: one row per accepted edit or patch, in server order per document. */
export const operations = pgTable('operations', {
  documentId: uuid('document_id').notNull().references(() => documents.id, { onDelete: 'cascade' }),
  serverOrder: bigint('server_order', { mode: 'number' }).notNull(),
  agent: text('agent').notNull(),
  seqStart: integer('seq_start').notNull(),
  /** Exclusive end of the agent's seq range this row carries (for rows of one agent). */
  seqEnd: integer('seq_end').notNull(),
  /** A positional edit: its ops, applied in order against `parents` (null for a patch row). */
  ops: jsonb('ops').$type<unknown[]>(),
  /** A client's diamond-types patch (null for an edit row). */
  patch: bytea('patch'),
  parents: jsonb('parents').$type<RemoteVersion>().notNull(),
  authorId: uuid('author_id').notNull().references(() => users.id),
  inserted: integer('inserted').notNull().default(0),
  deleted: integer('deleted').notNull().default(0),
  /** Accepted edits this row stands for: 1, or more once document__compact folded a minute of one agent's rows into it. */
  edits: integer('edits').notNull().default(1),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.documentId, t.serverOrder] }), uniqueIndex('operations_agent_seq_key').on(t.documentId, t.agent, t.seqStart)]);

/** A full oplog and its text, covering every operation row up to serverOrder. */
export const snapshots = pgTable('snapshots', {
  documentId: uuid('document_id').notNull().references(() => documents.id, { onDelete: 'cascade' }),
  serverOrder: bigint('server_order', { mode: 'number' }).notNull(),
  oplog: bytea('oplog').notNull(),
  content: text('content').notNull(),
  version: jsonb('version').$type<RemoteVersion>().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.documentId, t.serverOrder] })]);

/**
 * The graphile-worker workers of each running worker pool, with the PostgreSQL backend that proves
 * their process is alive (a connection the process holds open). A worker whose backend is gone was
 * killed: the jobs it had locked are unlocked for others at once, not after graphile-worker's 4 hours.
 */
export const workerLeases = pgTable('worker_leases', {
  workerId: text('worker_id').primaryKey(),
  backendPid: integer('backend_pid').notNull(),
  backendStart: timestamp('backend_start', { withTimezone: true }).notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** A saved point in a document's history: named by a user (createVersion); the history itself is never deleted. */
export const versions = pgTable('versions', {
  id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
  documentId: uuid('document_id').notNull().references(() => documents.id, { onDelete: 'cascade' }),
  /** NAMED (createVersion) or AUTO (a burst of activity closed by document__autoversion). */
  kind: text('kind').$type<'NAMED' | 'AUTO'>().notNull().default('NAMED'),
  name: text('name').notNull(),
  description: text('description'),
  /** The frontier saved: the document's version when the version was created. */
  frontier: jsonb('frontier').$type<RemoteVersion>().notNull(),
  /** Operation rows it covers (server orders 1..serverOrder). */
  serverOrder: bigint('server_order', { mode: 'number' }).notNull(),
  authorId: uuid('author_id').notNull().references(() => users.id),
  /** Everyone whose operations the version's burst holds (AUTO); the creator alone for NAMED. */
  authorIds: jsonb('author_ids').$type<string[]>().notNull().default([]),
  /** Accepted edits in the document's history up to this version (null for versions saved before it was recorded). */
  editCount: bigint('edit_count', { mode: 'number' }),
  /** Length of the text at this version, in code points (null likewise). */
  length: bigint('length', { mode: 'number' }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [index('versions_document_created_idx').on(t.documentId, t.createdAt)]);

/** Per document, user and day: what they did (analytics__rollup recomputes whole days from the operation log). */
export const activityDaily = pgTable('activity_daily', {
  documentId: uuid('document_id').notNull().references(() => documents.id, { onDelete: 'cascade' }),
  userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  day: date('day', { mode: 'string' }).notNull(),
  edits: integer('edits').notNull(),
  inserted: bigint('inserted', { mode: 'number' }).notNull(),
  deleted: bigint('deleted', { mode: 'number' }).notNull(),
  /** Distinct minutes with at least one edit. */
  activeMinutes: integer('active_minutes').notNull(),
}, (t) => [primaryKey({ columns: [t.documentId, t.userId, t.day] }), index('activity_daily_user_idx').on(t.userId, t.day)]);

/** How far analytics__rollup has counted: days from this one on are recomputed by its next run. */
export const analyticsState = pgTable('analytics_state', {
  id: integer('id').primaryKey().default(1),
  rolledUpTo: timestamp('rolled_up_to', { withTimezone: true }).notNull(),
});
