import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { pino, type Logger } from 'pino';
import { Redis } from 'ioredis';
import { ApiKeys } from './auth/apiKeys.js';
import { Authenticator } from './auth/authenticator.js';
import { DocumentAccess } from './auth/documentAccess.js';
import { RateLimits } from './auth/rateLimits.js';
import { PostgresSessionStore, RedisSessionStore } from './auth/sessionStore.js';
import { Documents } from './collab/documents.js';
import { Presence } from './collab/presence.js';
import { createRedisPresenceStore, memoryPresenceStore, type PresenceStore } from './collab/presenceStore.js';
import type { Config } from './config.js';
import type { Services } from './context.js';
import { engineMemoryBytes } from './crdt/engine.js';
import { createDb, createPool, migrateDb } from './db/client.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded.js';
import { ErrorCode } from './errors.js';
import { isAllowedOrigin } from './auth/origins.js';
import { createDownloadHandler } from './graphql/download.js';
import { createJsonPostHandler } from './graphql/jsonPost.js';
import { createGraphQL } from './graphql/yoga.js';
import { Metrics } from './metrics/metrics.js';
import { sendMetrics, startMetricsServer, type MetricsServer } from './metrics/metricsServer.js';
import { createMemoryBus, createRedisBus, type Bus } from './realtime/bus.js';
import { ServerCloseCode } from './realtime/closeCodes.js';
import { startWsServer, type WsServer } from './realtime/wsServer.js';
import { migrateWorker, type WorkerRunner } from '../workers/runner.js';
import { startWorkerThread } from '../workers/threadRunner.js';

export interface App {
  /** Starts everything; resolves with the URL of the GraphQL endpoint once ready (and the metrics port, when it has its own). */
  start(): Promise<{ url: string; port: number; metricsPort?: number }>;
  /** Stops everything it started, in dependency order. Safe to call twice. */
  stop(): Promise<void>;
  readonly instanceId: string;
  /** Available after start(). */
  readonly services: Services;
}

/** Longest wait, on stop, for HTTP requests in flight to be answered. */
const DRAIN_MS = 10_000;

/** Wires every long-lived part of a server instance. */
export function buildApp(config: Config, log: Logger = pino({ level: config.logLevel })): App {
  const instanceId = randomUUID();
  let embedded: EmbeddedDatabase | null = null;
  let pool: pg.Pool | null = null;
  let bus: Bus | null = null;
  let documents: Documents | null = null;
  let presence: Presence | null = null;
  let presenceStore: PresenceStore | null = null;
  let access: DocumentAccess | null = null;
  let kv: Redis | null = null;
  let runner: WorkerRunner | null = null;
  let http: Server | null = null;
  let ws: WsServer | null = null;
  let services: Services | null = null;
  let metrics: Metrics | null = null;
  let metricsServer: MetricsServer | null = null;
  let stopping: Promise<void> | null = null;
  /** Set by stop(): readiness fails and new requests are turned away while in-flight work finishes. */
  let draining = false;
  let inFlight = 0;
  const idleWaiters: (() => void)[] = [];

  async function start() {
    const url = config.databaseUrl ?? (embedded = await startEmbeddedPostgres(config.dataDir, config.embeddedPgPort, log)).url;
    pool = createPool(url, log, 20, `cowrite-${instanceId}`);
    await migrateDb(pool);
    await migrateWorker(pool, log);
    bus = config.redisUrl ? createRedisBus(config.redisUrl, log, `cowrite-${instanceId}`) : createMemoryBus();
    metrics = config.metrics ? new Metrics() : null;
    documents = new Documents({
      pool,
      bus,
      log,
      instanceId,
      limits: config.limits,
      streamBounds: { events: config.limits.maxSubscriberBufferEvents, bytes: config.limits.maxSubscriberBufferBytes },
      idleMs: config.collab.idleMs,
      jobs: config.collab,
      feedBacklog: { rows: config.collab.feedBacklogRows, bytes: config.collab.feedBacklogBytes },
      readOffload: { ms: config.collab.readOffloadMs, concurrentEdits: config.collab.readOffloadConcurrentEdits },
      observer: metrics ?? undefined,
    });
    await documents.start();
    presenceStore = config.redisUrl ? createRedisPresenceStore(config.redisUrl, log, `cowrite-${instanceId}`) : memoryPresenceStore;
    presence = new Presence({ bus, store: presenceStore, documents, log, instanceId, ...config.presence });
    await presence.start();
    const db = createDb(pool);
    access = new DocumentAccess({ pool, bus, log, instanceId });
    await access.start();
    if (config.redisUrl) {
      // Sessions and rate-limit counters: commands fail fast when Redis is down (callers get UNAVAILABLE).
      kv = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectionName: `cowrite-${instanceId}:kv` });
      kv.on('error', (err) => log.warn({ err: err.message }, 'redis error (sessions, rate limits)'));
    }
    const sessions = kv ? new RedisSessionStore(kv, config.sessionTtlSeconds, config.redisKeyPrefix) : new PostgresSessionStore(pool, config.sessionTtlSeconds);
    const apiKeys = new ApiKeys(pool);
    const auth = new Authenticator({ sessions, apiKeys, db, log });
    access.credentialListeners.add((ids) => auth.forget(ids));
    access.changeListeners.add((id) => void documents!.refreshMeta(id).catch((err) => log.warn({ err, documentId: id }, 'document row not refreshed')));
    const rateLimits = new RateLimits(config.rateLimits, kv, config.redisKeyPrefix);
    services = { config, log, pool, db, auth, sessions, apiKeys, access, rateLimits, documents, presence };
    if (config.runWorker) {
      // On a thread of its own: a job that runs the engine over a whole history must not hold up edits.
      runner = await startWorkerThread(
        { databaseUrl: url, logLevel: log.level, poolSize: 6, applicationName: `cowrite-worker-${instanceId}`, retention: { trashDays: config.trashRetentionDays, auditDays: config.auditRetentionDays } },
        log,
        metrics ?? undefined,
      );
    }
    const yoga = createGraphQL(services, metrics ?? undefined);
    const jsonPost = createJsonPostHandler({
      yoga,
      log,
      maxBodyBytes: config.limits.maxBodyBytes,
      trustProxy: config.trustProxy,
      allowOrigin: (origin, host) => (isAllowedOrigin(config.corsOrigins, origin, host) ? origin! : null),
    });
    const download = createDownloadHandler({ yoga, log, trustProxy: config.trustProxy });
    const readyPool = pool;
    const readyBus = bus;
    http = createServer((req, res) => {
      inFlight++;
      res.once('close', () => {
        if (--inFlight === 0) for (const w of idleWaiters.splice(0)) w();
      });
      route(req, res).catch((err) => {
        log.error({ err, url: req.url }, 'request handling failed');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    async function route(req: IncomingMessage, res: ServerResponse) {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/healthz') return json(res, 200, { status: 'ok' });
      if (path === '/readyz') {
        if (draining) return json(res, 503, { status: 'draining' });
        const [db, pubsub] = await Promise.all([
          readyPool.query('SELECT 1').then(() => true, () => false),
          readyBus.healthy(),
        ]);
        // Without Redis an instance still takes and persists edits and serves its own subscribers
        // (others catch up from PostgreSQL later): degraded, but worth routing to. Without PostgreSQL
        // it can acknowledge nothing.
        const status = !db ? 'unavailable' : pubsub ? 'ready' : 'degraded';
        return json(res, db ? 200 : 503, { status, postgres: db, pubsub: readyBus.kind === 'redis' ? pubsub : 'in-process' });
      }
      if (path === '/metrics' && metrics && !metricsServer && req.method === 'GET') return sendMetrics(metrics.registry, res);
      if (draining) {
        // A request that arrives on a kept-alive connection after SIGTERM is new work: another instance takes it.
        res.setHeader('connection', 'close');
        return json(res, 503, { errors: [{ message: 'server is shutting down; retry on another instance', extensions: { code: ErrorCode.UNAVAILABLE } }] });
      }
      const length = Number(req.headers['content-length'] ?? 0);
      if (length > config.limits.maxBodyBytes) {
        res.setHeader('connection', 'close');
        return json(res, 413, {
          errors: [{ message: `request body is larger than ${config.limits.maxBodyBytes} bytes`, extensions: { code: ErrorCode.PAYLOAD_TOO_LARGE, max: config.limits.maxBodyBytes } }],
        });
      }
      if (path === yoga.graphqlEndpoint && jsonPost(req, res)) return;
      if (download(req, res)) return;
      return yoga.requestListener(req, res);
    }
    http.keepAliveTimeout = 65_000;
    ws = startWsServer({
      server: http,
      yoga,
      log,
      maxPayload: config.limits.maxWsFrameBytes,
      allowedOrigins: config.corsOrigins,
      keepAliveMs: config.wsKeepAliveMs,
      trustProxy: config.trustProxy,
      maxSubscriptionsPerConnection: config.limits.maxSubscriptionsPerConnection,
      rateLimits: services.rateLimits,
    });
    const [wsServer, residentDocuments, presenceNow] = [ws, documents, presence];
    const jobs = runner;
    metrics?.readFrom({
      documents: () => residentDocuments.stats(),
      webSocketClients: () => wsServer.clientCount,
      presence: () => presenceNow.stats(),
      engineMemory: { main: engineMemoryBytes, feed: () => residentDocuments.feedEngineMemory(), ...(jobs?.engineMemory ? { jobs: () => jobs.engineMemory!() } : {}) },
    });
    if (metrics && config.metricsPort !== undefined) metricsServer = await startMetricsServer(metrics.registry, config.metricsHost ?? config.host, config.metricsPort, log);
    await new Promise<void>((resolve, reject) => {
      http!.once('error', reject);
      http!.listen(config.port, config.host, () => resolve());
    });
    const port = (http.address() as AddressInfo).port;
    const endpoint = `http://${config.host}:${port}/graphql`;
    log.info({ url: endpoint, instanceId, database: embedded ? 'embedded' : 'external', pubsub: bus.kind }, 'cowrite ready');
    return { url: endpoint, port, ...(metricsServer ? { metricsPort: metricsServer.port } : {}) };
  }

  async function stopAll() {
    // Order matters: take no new work, let the requests in flight finish (their edits commit and are
    // answered), flush every document, then tell WebSocket clients to reconnect elsewhere; then jobs,
    // pub/sub, pools, PostgreSQL.
    draining = true;
    const closed = http ? new Promise<void>((resolve) => http!.close(() => resolve())) : Promise.resolve();
    http?.closeIdleConnections();
    await Promise.race([
      inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve)),
      new Promise((resolve) => setTimeout(resolve, DRAIN_MS).unref()),
    ]);
    await documents?.drain().catch((err) => log.warn({ err }, 'documents drain'));
    await presence?.stop().catch((err) => log.warn({ err }, 'presence stop'));
    await ws?.stop(ServerCloseCode.ServiceRestart, 'server restarting; reconnect').catch((err) => log.warn({ err }, 'ws stop'));
    http?.closeAllConnections();
    await closed;
    await documents?.stop().catch((err) => log.warn({ err }, 'documents stop'));
    await runner?.stop().catch((err) => log.warn({ err }, 'worker stop'));
    await presenceStore?.stop().catch(() => undefined);
    await access?.stop().catch(() => undefined);
    kv?.disconnect();
    await bus?.stop().catch(() => undefined);
    await pool?.end().catch(() => undefined);
    await embedded?.stop().catch((err) => log.warn({ err }, 'embedded postgres stop'));
    await metricsServer?.stop();
    metrics?.stop();
    log.info({ instanceId }, 'cowrite stopped');
  }

  return {
    instanceId,
    start,
    stop: () => (stopping ??= stopAll()),
    get services() {
      if (!services) throw new Error('app not started');
      return services;
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
