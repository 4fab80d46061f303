import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { freePort } from '../../test/helpers/net.js';

/** Benchmarks take their PostgreSQL database (a fresh one on DATABASE_URL's server) the way the tests do. */
export { freshDatabase as benchDatabase } from '../../test/helpers/db.js';

export interface Proc {
  child: ChildProcess;
  port: number;
  url: string;
  /** Resident set size of the process, in MiB. */
  rssMiB(): number;
  /** CPU time the process has used (user + system, all threads), and its main thread's, in ms. */
  cpuMs(): { all: number; main: number };
  stop(): Promise<void>;
}

/** Linux's USER_HZ: /proc reports CPU times in these. */
const CLOCK_TICKS = 100;

/** User + system CPU time, in ms, from a /proc/.../stat line. */
function cpuMsOf(stat: string): number {
  const fields = stat.replace(/^.*\) /s, '').split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** CPU time, in ms, used so far by each PostgreSQL process on this machine (backends, WAL writer...), by pid. */
function postgresCpuMs(): Map<string, number> {
  const used = new Map<string, number>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.includes(' (postgres) ')) used.set(pid, cpuMsOf(stat));
    } catch {
      // gone meanwhile
    }
  }
  return used;
}

/**
 * Starts counting the CPU that a server process, PostgreSQL and this process (the load generator)
 * use; the function returned stops and gives each, in ms. On a machine whose cores all three share,
 * this says where an operation's cost goes, which rates alone do not.
 */
export function cpuSplit(server: Proc): () => { server: number; serverMain: number; postgres: number; client: number } {
  const s0 = server.cpuMs();
  const p0 = postgresCpuMs();
  const c0 = process.cpuUsage();
  return () => {
    const c = process.cpuUsage(c0);
    // (A backend that ended meanwhile is not counted: what it used is gone with it.)
    let postgres = 0;
    for (const [pid, ms] of postgresCpuMs()) postgres += ms - (p0.get(pid) ?? 0);
    const s1 = server.cpuMs();
    return { server: s1.all - s0.all, serverMain: s1.main - s0.main, postgres, client: (c.user + c.system) / 1000 };
  };
}

const BENCH_LIMITS = {
  RATE_EDITS_PER_USER: '1000000000',
  RATE_EDITS_PER_IP: '1000000000',
  RATE_CONNECTIONS_PER_IP: '1000000000',
  RATE_AUTH_PER_IP: '1000000000',
};

/** Runs a cowrite server as its own process (so the load generator does not share its event loop). */
export async function spawnCowrite(env: Record<string, string>): Promise<Proc> {
  const port = await freePort();
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  // What `npm start` runs, with its flags (bench/run.ts builds dist/ first).
  const child = spawn(process.execPath, [...prof, '--max-semi-space-size=32', 'dist/src/main.js'], {
    // A load generator is one client address doing the work of many users: per-address and per-user
    // rate limits would measure the limiter, not the server.
    env: { ...process.env, PORT: String(port), LOG_LEVEL: 'warn', RUN_WORKER: 'false', ...BENCH_LIMITS, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200);
  return wrap(child, port, `http://127.0.0.1:${port}/graphql`);
}

/** Runs a script (a baseline server) as its own process; it must print its port on stdout. */
export async function spawnScript(file: string, args: string[] = []): Promise<Proc> {
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => child.stdout!.once('data', (d) => resolve(Number(String(d).trim()))));
  return wrap(child, port, `http://127.0.0.1:${port}/graphql`);
}

function wrap(child: ChildProcess, port: number, url: string): Proc {
  return {
    child,
    port,
    url,
    rssMiB: () => {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : NaN;
    },
    cpuMs: () => ({ all: cpuMsOf(readFileSync(`/proc/${child.pid}/stat`, 'utf8')), main: cpuMsOf(readFileSync(`/proc/${child.pid}/task/${child.pid}/stat`, 'utf8')) }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export async function waitFor(check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}
