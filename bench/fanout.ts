import { spawn, type ChildProcess } from 'node:child_process';
import WebSocket from 'ws';
import { post } from './lib/http.js';
import { benchDatabase, cpuSplit, spawnCowrite, spawnScript } from './lib/processes.js';
import { EDIT, createDoc, joinDoc, signUp } from './lib/setup.js';
import { fmt, header, percentile } from './lib/stats.js';

const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 1000);
const RATE = 100;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP = 2;
const now = () => performance.timeOrigin + performance.now();

/** Subscriber sockets in their own process (bench/lib/subscribers.ts); resolves once all are subscribed. */
/** [sockets that got it, epoch ms at the last, epoch ms at the first] */
type Receipt = [number, number, number];

async function subscriberProcess(args: string[]): Promise<{ child: ChildProcess; report(): Promise<Record<string, Receipt>> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/lib/subscribers.ts', ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  while (!out.includes('ready')) {
    if (child.exitCode !== null) throw new Error('subscriber process exited');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    report: () =>
      new Promise((resolve) => {
        const before = out.length;
        child.once('exit', () => resolve(JSON.parse(out.slice(before).trim())));
        child.stdin!.write('report\n');
      }),
  };
}

/**
 * Sends at most RATE per second, each only after the previous one was answered: WARMUP seconds
 * that are not measured (both sides' code gets compiled), then `seconds` that are.
 */
async function pace(seconds: number, send: (k: number, measured: boolean) => Promise<void>) {
  const from = performance.now() + WARMUP * 1000;
  const end = from + seconds * 1000;
  for (let k = 0; performance.now() < end; k++) {
    const due = performance.now() + 1000 / RATE;
    await send(k, due - 1000 / RATE >= from);
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

/** Edit-to-last-subscriber latencies (`at` 1), or edit-to-first (`at` 2), of the edits every subscriber got. */
function latencies(sent: Map<number, number>, got: Record<string, Receipt>, at: 1 | 2 = 1) {
  const all: number[] = [];
  for (const [k, t] of sent) {
    const g = got[k];
    if (g && g[0] === SUBSCRIBERS) all.push(g[at] - t);
  }
  return all;
}

export async function fanout(): Promise<void> {
  header(`Fan-out: one writer at up to ${RATE} edits/s, ${SUBSCRIBERS} documentChanges subscribers (one socket each, in a process of their own), ${SECONDS} s after ${WARMUP} s of warm-up`, 'npm run bench -- fanout');
  const db = await benchDatabase();
  const server = await spawnCowrite({ DATABASE_URL: db.url });
  const bare = await spawnScript('bench/baseline/wsBroadcast.ts');
  try {
    const token = await signUp(server.url);
    const doc = await createDoc(server.url, token, '');
    const writer = await joinDoc(server.url, token, doc);

    const subs = await subscriberProcess(['cowrite', server.url.replace(/^http/, 'ws'), token, doc, String(SUBSCRIBERS)]);
    const sent1 = new Map<number, number>();
    const acks: number[] = [];
    let parents = writer.version;
    let edits = 0;
    const split = cpuSplit(server);
    await pace(SECONDS, async (k, measured) => {
      edits++;
      const t = now();
      if (measured) sent1.set(k, t);
      const r = await post(server.url, JSON.stringify({ query: EDIT, variables: { i: { documentId: doc, agent: writer.agent, seq: k, parents, ops: [{ insert: { pos: k, text: 'x' } }] } } }), token);
      if (r.json.errors) throw new Error(JSON.stringify(r.json.errors));
      parents = r.json.data.editDocument.version;
      if (measured) acks.push(now() - t);
    });
    await new Promise((r) => setTimeout(r, 2000));
    const cpu = split();
    const got1 = await subs.report();
    const real = latencies(sent1, got1);
    const first = latencies(sent1, got1, 2);

    // Baseline: the same number of sockets on a bare ws relay, the same message bytes.
    const baseSubs = await subscriberProcess(['bare', `ws://127.0.0.1:${bare.port}`, String(SUBSCRIBERS)]);
    const publisher = new WebSocket(`ws://127.0.0.1:${bare.port}`);
    await new Promise((r) => publisher.once('open', r));
    const sent2 = new Map<number, number>();
    const sample = (k: number) => JSON.stringify({ id: '1', type: 'next', payload: { data: { documentChanges: { version: [[writer.agent, k]], ops: [{ pos: k, text: 'x' }] } } } });
    await pace(SECONDS, async (k, measured) => {
      if (measured) sent2.set(k, now());
      publisher.send(sample(k));
    });
    await new Promise((r) => setTimeout(r, 2000));
    const base = latencies(sent2, await baseSubs.report());
    publisher.terminate();

    const p = (v: number[], q: number) => fmt(percentile(v, q));
    console.log(`    baseline (bare ws relay, same bytes):      edit-to-last-subscriber p50 ${p(base, 50)} ms, p99 ${p(base, 99)} ms (${base.length}/${sent2.size} messages reached all)`);
    console.log(`    cowrite (editDocument -> documentChanges): p50 ${p(real, 50)} ms, p99 ${p(real, 99)} ms (${real.length}/${sent1.size} edits reached all ${SUBSCRIBERS}; ${fmt(sent1.size / SECONDS, 0)} edits/s)`);
    console.log(`      of which: acknowledgement p50 ${p(acks, 50)} ms, p99 ${p(acks, 99)} ms; edit-to-first-subscriber p50 ${p(first, 50)} ms, p99 ${p(first, 99)} ms`);
    console.log(`      server CPU per edit delivered to all ${SUBSCRIBERS}: ${fmt(cpu.server / edits)} ms (main thread ${fmt(cpu.serverMain / edits)} ms)`);
    console.log(`    ratio p50 cowrite/baseline: ${fmt(percentile(real, 50) / percentile(base, 50))}x (target <= 3x); p99 ${p(real, 99)} ms (target < 50 ms)`);
  } finally {
    await bare.stop();
    await server.stop();
    await db.drop();
  }
}
