import { spawn, type ChildProcess } from 'node:child_process';

/** A server started the way `npm start` starts it, as a child process of the test. */
export interface ServerProcess {
  proc: ChildProcess;
  port: number;
  url: string;
  wsUrl: string;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<number | NodeJS.Signals | null>;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
}

/** What `npm start` and `npm run worker` run: the build in dist/ (test/globalSetup.ts builds it). */
export const BUILT = { server: 'dist/src/main.js', worker: 'dist/workers/main.js' } as const;

/** Spawns the built server on `port` with the given environment (no Redis and no worker unless given). */
export function spawnServer(port: number, env: Record<string, string> = {}): ServerProcess {
  const proc = spawn(process.execPath, [BUILT.server], {
    env: { ...process.env, DATABASE_URL: '', REDIS_URL: '', LOG_LEVEL: 'warn', RUN_WORKER: 'false', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal)));
  const url = `http://127.0.0.1:${port}/graphql`;
  return { proc, port, url, wsUrl: url.replace(/^http/, 'ws'), exited, output: () => out };
}

/** Waits until GET /readyz answers 200. */
export async function waitReady(port: number, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server on port ${port} did not become ready`);
}

/** Spawns a server and waits until it is ready. */
export async function startServerProcess(port: number, env: Record<string, string> = {}): Promise<ServerProcess> {
  const s = spawnServer(port, env);
  const early = s.exited.then((code) => {
    throw new Error(`server exited (${code}) before it was ready:\n${s.output()}`);
  });
  await Promise.race([waitReady(port), early]);
  early.catch(() => undefined);
  return s;
}

/** Sends a signal and waits for the exit. */
export async function killServer(s: ServerProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | NodeJS.Signals | null> {
  if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill(signal);
  return s.exited;
}
