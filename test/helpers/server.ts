import { pino } from 'pino';
import { buildApp, type App } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';

export interface TestServer {
  app: App;
  url: string;
  wsUrl: string;
  port: number;
  /** Set when the server serves its metrics on a port of their own (metricsPort). */
  metricsPort?: number;
  stop(): Promise<void>;
}

type Overrides = Parameters<typeof loadConfig>[1];

/** A real server on port 0 against the given database (and Redis when given). */
export async function startServer(databaseUrl: string, overrides: Overrides & { redisUrl?: string } = {}, logTo?: { write(line: string): void }): Promise<TestServer> {
  // Servers of one database share Redis keys (sessions, rate limits); other tests' servers do not.
  const redisKeyPrefix = `cowrite-test:${new URL(databaseUrl).pathname.slice(1)}:`;
  const config: Config = loadConfig({}, { port: 0, databaseUrl, logLevel: 'silent', runWorker: false, redisKeyPrefix, ...overrides });
  // With `logTo`, everything the server logs (at trace level) is written there too.
  const log = logTo ? pino({ level: 'trace' }, logTo) : pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const app = buildApp(config, log);
  const { url, port, metricsPort } = await app.start();
  return { app, url, port, metricsPort, wsUrl: url.replace(/^http/, 'ws'), stop: () => app.stop() };
}

/** Frees the engine instance behind a resident document, as a WASM trap would (the document must be resident). */
export function loseReplica(server: TestServer, documentId: string): void {
  const live = server.app.services.documents.peek(documentId)!;
  (live as unknown as { replica: { free(): void } }).replica.free();
}

/** Ends the change-feed thread, as a crash would; the server starts a new one. */
export async function crashFeedThread(server: TestServer): Promise<void> {
  await (server.app.services.documents as unknown as { feed: { worker: { terminate(): Promise<number> } } }).feed.worker.terminate();
}
