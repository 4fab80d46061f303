import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { benchDatabase, spawnCowrite, spawnScript } from './lib/processes.js';
import { createDoc, signUp } from './lib/setup.js';
import { fmt, header } from './lib/stats.js';

const PARTICIPANTS = Number(process.env.BENCH_PARTICIPANTS ?? 200);
const RATE = 10;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

interface Report {
  sent: number;
  deliveries: number;
  p50: number;
  p99: number;
  max: number;
}

/** Participants in a process of their own (bench/lib/participants.ts): connects them, runs, reports. */
async function run(args: string[]): Promise<Report> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/lib/participants.ts', ...args, String(PARTICIPANTS), String(RATE), String(SECONDS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  while (!out.includes('ready')) {
    if (child.exitCode !== null) throw new Error('participants process exited');
    await new Promise((r) => setTimeout(r, 50));
  }
  const before = out.length;
  child.stdin!.write('go\n');
  await new Promise((r) => child.once('exit', r));
  return JSON.parse(out.slice(before).trim()) as Report;
}

/** CPU time (user + system) a process has used, in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (100 Hz)
}

export async function presence(): Promise<void> {
  header(`Presence: ${PARTICIPANTS} participants on one document, ${RATE} cursor updates/s each, ${SECONDS} s`, 'npm run bench -- presence');
  const db = await benchDatabase();
  const server = await spawnCowrite({ DATABASE_URL: db.url });
  const bare = await spawnScript('bench/baseline/wsBroadcast.ts');
  try {
    const token = await signUp(server.url);
    const doc = await createDoc(server.url, token, 'x'.repeat(RATE * SECONDS * 2 + 100));
    const c0 = cpuMs(server.child.pid!);
    const real = await run(['cowrite', server.url, token, doc]);
    const c1 = cpuMs(server.child.pid!);
    const b0 = cpuMs(bare.child.pid!);
    const base = await run(['bare', `ws://127.0.0.1:${bare.port}`]);
    const b1 = cpuMs(bare.child.pid!);

    const others = PARTICIPANTS - 1;
    const line = (name: string, r: Report, cpu: number) =>
      console.log(
        `    ${name} delivery p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms, max ${fmt(r.max)} ms; ${r.sent} updates (${fmt(r.sent / SECONDS, 0)}/s), ` +
          `${r.deliveries} deliveries (${fmt((100 * r.deliveries) / (r.sent * others), 1)}% of updates x others; the rest were coalesced, or not delivered within 1.5 s of the end); ` +
          `server CPU ${fmt((cpu * 1000) / r.sent, 1)} us per update`,
      );
    line('baseline (bare ws relay, every update to every other socket):', base, b1 - b0);
    line('cowrite (updatePresence -> documentPresence, coalesced per 100 ms): ', real, c1 - c0);
    console.log(`    ratio p99 cowrite/baseline: ${fmt(real.p99 / base.p99)}x; CPU per update cowrite/baseline: ${fmt((c1 - c0) / real.sent / ((b1 - b0) / base.sent))}x`);
  } finally {
    await bare.stop();
    await server.stop();
    await db.drop();
  }
}
