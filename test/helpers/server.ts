import { pino } from 'pino';
import { buildApp, type App } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';

export interface TestServer {
  app: App;
  url: string;
  wsUrl: string;
  port: number;
  stop(): Promise<void>;
}

type Overrides = Parameters<typeof loadConfig>[1];

/** A real server on port 0 against the given database (and Redis when given). */
export async function startServer(databaseUrl: string, overrides: Overrides & { redisUrl?: string } = {}): Promise<TestServer> {
  const config: Config = loadConfig({}, { port: 0, databaseUrl, logLevel: 'silent', runWorker: false, ...overrides });
  const app = buildApp(config, pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }));
  const { url, port } = await app.start();
  return { app, url, port, wsUrl: url.replace(/^http/, 'ws'), stop: () => app.stop() };
}
