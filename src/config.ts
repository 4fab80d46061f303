import { z } from 'zod';

/** Where the server runs and what it connects to. Every field comes from the environment. */
const ConfigSchema = z.object({
  /** HTTP/WebSocket port (PORT, default 4000; 0 picks a free port). */
  port: z.coerce.number().int().min(0).max(65535).default(4000),
  /** Interface to bind (HOST, default 127.0.0.1). */
  host: z.string().default('127.0.0.1'),
  /** PostgreSQL URL (DATABASE_URL). Unset: embedded PostgreSQL in `dataDir`. */
  databaseUrl: z.string().url().optional(),
  /** Directory of the embedded PostgreSQL cluster (DATA_DIR, default ./data). */
  dataDir: z.string().default('./data'),
  /** Port of the embedded PostgreSQL (EMBEDDED_PG_PORT, default 54329: 5432 is often taken). */
  embeddedPgPort: z.coerce.number().int().min(1).max(65535).default(54329),
  /** Redis URL (REDIS_URL). Unset: in-process pub/sub, a single instance. */
  redisUrl: z.string().optional(),
  /** Prefix of the Redis keys holding sessions and rate-limit counts (REDIS_KEY_PREFIX, default cowrite:): deployments sharing one Redis use different ones. */
  redisKeyPrefix: z.string().default('cowrite:'),
  /** pino level (LOG_LEVEL, default info). */
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Run graphile-worker inside the server process (RUN_WORKER, default true). */
  runWorker: z.stringbool().default(true),
  /** Serve Prometheus metrics at /metrics (METRICS, default true). */
  metrics: z.stringbool().default(true),
  /** Serve them on this port instead, and not on PORT (METRICS_PORT; unset: /metrics on PORT). */
  metricsPort: z.coerce.number().int().min(0).max(65535).optional(),
  /** The address METRICS_PORT listens on (METRICS_HOST, default HOST). */
  metricsHost: z.string().optional(),
  /** Other browser origins allowed for CORS and WebSocket upgrades (CORS_ORIGINS, comma-separated; the server's own origin always is). */
  corsOrigins: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((o) => o.trim()).filter(Boolean)),
  /** WebSocket keep-alive: ping every this many ms, and drop a client that does not answer within as long again (WS_KEEPALIVE_MS, default 5000). */
  wsKeepAliveMs: z.coerce.number().int().positive().default(5_000),
  presence: z.object({
    /** A participant nobody renews for this long leaves (PRESENCE_TTL_MS, default 8000). */
    ttlMs: z.coerce.number().int().positive().default(8_000),
    /** Presence changes are coalesced and sent at most this often per document (PRESENCE_TICK_MS, default 100). */
    tickMs: z.coerce.number().int().positive().default(100),
    /** A participant with no update for this long shows as IDLE (PRESENCE_IDLE_MS, default 60000). */
    idleMs: z.coerce.number().int().positive().default(60_000),
  }),
  /** Session lifetime in seconds, renewed by each use (SESSION_TTL_SECONDS, default 30 days). */
  sessionTtlSeconds: z.coerce.number().int().positive().default(30 * 24 * 3600),
  /** Take client addresses from X-Forwarded-For: only behind a proxy that sets it (TRUST_PROXY, default false). */
  trustProxy: z.stringbool().default(false),
  /** Serve schema introspection (GRAPHQL_INTROSPECTION; default on, off when NODE_ENV=production). */
  introspection: z.stringbool().optional(),
  nodeEnv: z.string().default('development'),
  /** An operation executed this many times is compiled with graphql-jit and runs compiled from then on; 0: never (GRAPHQL_JIT_AFTER, default 3). */
  graphqlJitAfter: z.coerce.number().int().min(0).default(3),
  /** Days a deleted document stays in the trash before it is purged (TRASH_RETENTION_DAYS, default 30). */
  trashRetentionDays: z.coerce.number().positive().default(30),
  /** Days audit records are kept (AUDIT_RETENTION_DAYS, default 365). */
  auditRetentionDays: z.coerce.number().positive().default(365),
  /** Query limits enforced before execution (graphql-armor). */
  armor: z.object({
    /** Deepest selection (GRAPHQL_MAX_DEPTH, default 12). */
    maxDepth: z.coerce.number().int().positive().default(12),
    /** Most aliases in one operation (GRAPHQL_MAX_ALIASES, default 15). */
    maxAliases: z.coerce.number().int().positive().default(15),
    /** Highest cost (armor's model: objects 2, scalars 1, ×1.5 per level, × a literal `first`/`last`) (GRAPHQL_MAX_COST, default 25000). */
    maxCost: z.coerce.number().int().positive().default(25_000),
    /** Most tokens in one document (GRAPHQL_MAX_TOKENS, default 2000). */
    maxTokens: z.coerce.number().int().positive().default(2_000),
    /** Most directives in one operation (GRAPHQL_MAX_DIRECTIVES, default 20). */
    maxDirectives: z.coerce.number().int().positive().default(20),
  }),
  /** Rate limits, per minute unless named otherwise. Shared by all instances when Redis is configured. */
  rateLimits: z.object({
    /** logIn and signUp attempts per client address (RATE_AUTH_PER_IP, default 30). */
    authPerIp: z.coerce.number().int().positive().default(30),
    /** logIn attempts per account (email) (RATE_AUTH_PER_ACCOUNT, default 10). */
    authPerAccount: z.coerce.number().int().positive().default(10),
    /** Edits, patches and joins per user (RATE_EDITS_PER_USER, default 30000). */
    editsPerUser: z.coerce.number().int().positive().default(30_000),
    /** Edits, patches and joins per client address (RATE_EDITS_PER_IP, default 60000). */
    editsPerIp: z.coerce.number().int().positive().default(60_000),
    /** WebSocket connection attempts per client address (RATE_CONNECTIONS_PER_IP, default 600). */
    connectionsPerIp: z.coerce.number().int().positive().default(600),
  }),
  limits: z.object({
    /** Largest HTTP body in bytes (MAX_BODY_BYTES, default 1 MiB). */
    maxBodyBytes: z.coerce.number().int().positive().default(1024 * 1024),
    /** Largest WebSocket frame in bytes (MAX_WS_FRAME_BYTES, default 1 MiB). */
    maxWsFrameBytes: z.coerce.number().int().positive().default(1024 * 1024),
    /** Most ops in one editDocument (MAX_OPS_PER_EDIT, default 1000). */
    maxOpsPerEdit: z.coerce.number().int().positive().default(1000),
    /** Most code points inserted by one edit or patch (MAX_INSERT_CHARS, default 1,000,000). */
    maxInsertChars: z.coerce.number().int().positive().default(1_000_000),
    /** Longest document in code points (MAX_DOCUMENT_CHARS, default 10,000,000). */
    maxDocumentChars: z.coerce.number().int().positive().default(10_000_000),
    /** Largest decoded patch in bytes (MAX_PATCH_BYTES, default 4 MiB). */
    maxPatchBytes: z.coerce.number().int().positive().default(4 * 1024 * 1024),
    /** Most subscriptions open at once on one WebSocket connection (MAX_SUBSCRIPTIONS_PER_CONNECTION, default 100). */
    maxSubscriptionsPerConnection: z.coerce.number().int().positive().default(100),
    /** Longest title in code points (MAX_TITLE_CHARS, default 500). */
    maxTitleChars: z.coerce.number().int().positive().default(500),
    /** Events a subscriber may leave unread before it is told to resume (MAX_SUBSCRIBER_BUFFER_EVENTS, default 2000). */
    maxSubscriberBufferEvents: z.coerce.number().int().positive().default(2_000),
    /** Bytes of events a subscriber may leave unread before it is told to resume (MAX_SUBSCRIBER_BUFFER_BYTES, default 8 MiB). */
    maxSubscriberBufferBytes: z.coerce.number().int().positive().default(8 * 1024 * 1024),
  }),
  collab: z.object({
    /** Evict a document with no activity and no subscribers after this many ms (DOC_IDLE_MS, default 60000). */
    idleMs: z.coerce.number().int().positive().default(60_000),
    /** Queue a snapshot after this many new operation rows (SNAPSHOT_EVERY_OPS, default 500). */
    snapshotEveryOps: z.coerce.number().int().positive().default(500),
    /** ...or after this many inserted and deleted characters (SNAPSHOT_EVERY_EVENTS, default 20000). */
    snapshotEveryEvents: z.coerce.number().int().positive().default(20_000),
    /** Close a burst of activity into an automatic version after this many quiet ms (AUTO_VERSION_QUIET_MS, default 300000). */
    autoVersionQuietMs: z.coerce.number().int().positive().default(300_000),
    /** ...or once it holds this many operation rows (AUTO_VERSION_MAX_OPS, default 1000). */
    autoVersionMaxOps: z.coerce.number().int().positive().default(1_000),
    /** Committed rows a resident document keeps for its first subscriber before handing them to the change-feed thread anyway (FEED_BACKLOG_ROWS, default 5000). */
    feedBacklogRows: z.coerce.number().int().positive().default(5_000),
    /** ...or once they hold this many bytes (FEED_BACKLOG_BYTES, default 16 MiB). */
    feedBacklogBytes: z.coerce.number().int().positive().default(16 * 1024 * 1024),
    /** A document whose read of its text or history (current text, time travel, blame) took longer than this many ms has its later ones done on the change-feed thread; 0: always (READ_OFFLOAD_MS, default 20). */
    readOffloadMs: z.coerce.number().int().min(0).default(20),
    /** ...and so does a document once this many edits were committed while its history had concurrent heads, before any read is slow (READ_OFFLOAD_CONCURRENT_EDITS, default 256; 0: never for this reason). */
    readOffloadConcurrentEdits: z.coerce.number().int().min(0).default(256),
  }),
});

export type Config = z.infer<typeof ConfigSchema>;

/** Whether introspection is served: GRAPHQL_INTROSPECTION when set, else on except in production. */
export const introspectionEnabled = (c: Config): boolean => c.introspection ?? c.nodeEnv !== 'production';

/** Builds the validated config from an environment (process.env by default). Throws on bad values. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: DeepPartial<Config> = {}): Config {
  const fromEnv = {
    port: env.PORT,
    host: env.HOST,
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.DATA_DIR,
    embeddedPgPort: env.EMBEDDED_PG_PORT,
    redisUrl: env.REDIS_URL || undefined,
    redisKeyPrefix: env.REDIS_KEY_PREFIX,
    logLevel: env.LOG_LEVEL,
    runWorker: env.RUN_WORKER,
    metrics: env.METRICS,
    metricsPort: env.METRICS_PORT || undefined,
    metricsHost: env.METRICS_HOST || undefined,
    corsOrigins: env.CORS_ORIGINS,
    sessionTtlSeconds: env.SESSION_TTL_SECONDS,
    trustProxy: env.TRUST_PROXY,
    introspection: env.GRAPHQL_INTROSPECTION,
    nodeEnv: env.NODE_ENV,
    graphqlJitAfter: env.GRAPHQL_JIT_AFTER,
    trashRetentionDays: env.TRASH_RETENTION_DAYS,
    auditRetentionDays: env.AUDIT_RETENTION_DAYS,
    armor: {
      maxDepth: env.GRAPHQL_MAX_DEPTH,
      maxAliases: env.GRAPHQL_MAX_ALIASES,
      maxCost: env.GRAPHQL_MAX_COST,
      maxTokens: env.GRAPHQL_MAX_TOKENS,
      maxDirectives: env.GRAPHQL_MAX_DIRECTIVES,
    },
    rateLimits: {
      authPerIp: env.RATE_AUTH_PER_IP,
      authPerAccount: env.RATE_AUTH_PER_ACCOUNT,
      editsPerUser: env.RATE_EDITS_PER_USER,
      editsPerIp: env.RATE_EDITS_PER_IP,
      connectionsPerIp: env.RATE_CONNECTIONS_PER_IP,
    },
    wsKeepAliveMs: env.WS_KEEPALIVE_MS,
    presence: { ttlMs: env.PRESENCE_TTL_MS, tickMs: env.PRESENCE_TICK_MS, idleMs: env.PRESENCE_IDLE_MS },
    limits: {
      maxBodyBytes: env.MAX_BODY_BYTES,
      maxWsFrameBytes: env.MAX_WS_FRAME_BYTES,
      maxOpsPerEdit: env.MAX_OPS_PER_EDIT,
      maxInsertChars: env.MAX_INSERT_CHARS,
      maxDocumentChars: env.MAX_DOCUMENT_CHARS,
      maxPatchBytes: env.MAX_PATCH_BYTES,
      maxTitleChars: env.MAX_TITLE_CHARS,
      maxSubscriptionsPerConnection: env.MAX_SUBSCRIPTIONS_PER_CONNECTION,
      maxSubscriberBufferEvents: env.MAX_SUBSCRIBER_BUFFER_EVENTS,
      maxSubscriberBufferBytes: env.MAX_SUBSCRIBER_BUFFER_BYTES,
    },
    collab: { idleMs: env.DOC_IDLE_MS, snapshotEveryOps: env.SNAPSHOT_EVERY_OPS, snapshotEveryEvents: env.SNAPSHOT_EVERY_EVENTS,
      autoVersionQuietMs: env.AUTO_VERSION_QUIET_MS,
      autoVersionMaxOps: env.AUTO_VERSION_MAX_OPS,
      feedBacklogRows: env.FEED_BACKLOG_ROWS,
      feedBacklogBytes: env.FEED_BACKLOG_BYTES,
      readOffloadMs: env.READ_OFFLOAD_MS,
      readOffloadConcurrentEdits: env.READ_OFFLOAD_CONCURRENT_EDITS,
    },
  };
  const config = ConfigSchema.parse(fromEnv);
  return merge(config, overrides) as Config;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = base[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' ? merge(b as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}
