import { post, gqlOk } from './lib/http.js';
import os from 'node:os';
import { benchDatabase, cpuSplit, spawnCowrite, spawnScript, type Proc } from './lib/processes.js';
import { fmt, header, median, percentile } from './lib/stats.js';

const WRITERS = 16;
/** Seconds each server is driven in all: ROUNDS turns of SECONDS / ROUNDS each, the servers taking turns. */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const EDIT = 'mutation($i: EditDocumentInput!) { editDocument(input: $i) { version } }';

interface Writer {
  documentId: string;
  agent: string;
  seq: number;
  parents: unknown;
}

/** Closed loop: each writer sends its next single-keystroke edit when the last one is answered. */
async function drive(url: string, token: string, writers: Writer[], seconds: number) {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    writers.map(async (w) => {
      while (performance.now() < end) {
        const body = JSON.stringify({ query: EDIT, variables: { i: { documentId: w.documentId, agent: w.agent, seq: w.seq, parents: w.parents, ops: [{ insert: { pos: w.seq, text: 'x' } }] } } });
        const t0 = performance.now();
        const r = await post(url, body, token);
        latencies.push(performance.now() - t0);
        if (r.json.errors) {
          errors++;
          continue;
        }
        w.parents = r.json.data.editDocument.version;
        w.seq++;
      }
    }),
  );
  return { latencies, errors };
}

/** One server under the load: its turns' rates, all its latencies, and the CPU it, PostgreSQL and the client used. */
interface Target {
  name: string;
  proc: Proc;
  /** Whether it writes to PostgreSQL (its CPU there is counted). */
  durable: boolean;
  writers: Writer[];
  rates: number[];
  latencies: number[];
  errors: number;
  cpu: { server: number; serverMain: number; postgres: number; client: number };
}

export async function throughput(): Promise<void> {
  header(
    `Durable edit throughput: ${WRITERS} writers, one document each, single-keystroke editDocument over HTTP; each server driven ${ROUNDS} turns of ${fmt(SECONDS / ROUNDS, 1)} s, the servers taking turns`,
    'npm run bench -- throughput',
  );
  const db = await benchDatabase();
  const server = await spawnCowrite({ DATABASE_URL: db.url });
  const procs = [server];
  try {
    const email = `bench-${Date.now()}@example.com`;
    const token = (await gqlOk(server.url, 'mutation($i: SignUpInput!) { signUp(input: $i) { token } }', { i: { email, password: 'bench password', displayName: 'bench' } })).signUp.token;
    const writers: Writer[] = [];
    for (let i = 0; i < WRITERS; i++) {
      const id = (await gqlOk(server.url, 'mutation { createDocument(input: { title: "bench" }) { document { id } } }', {}, token)).createDocument.document.id;
      const j = (await gqlOk(server.url, 'mutation($d: ID!) { joinDocument(documentId: $d) { agent version } }', { d: id }, token)).joinDocument;
      writers.push({ documentId: id, agent: j.agent, seq: 0, parents: j.version });
    }
    const target = (name: string, proc: Proc, durable: boolean, own = false): Target => ({
      name,
      proc,
      durable,
      writers: own ? writers : writers.map((w) => ({ ...w })),
      rates: [],
      latencies: [],
      errors: 0,
      cpu: { server: 0, serverMain: 0, postgres: 0, client: 0 },
    });
    /** A reference server; given a database, it acknowledges each edit after committing it there. */
    const reference = async (name: string, file: string, databaseUrl?: string) => {
      const proc = await spawnScript(file, databaseUrl ? [databaseUrl] : []);
      procs.push(proc);
      return target(name, proc, databaseUrl !== undefined);
    };
    const base = await reference('bare node:http', 'bench/baseline/httpServer.ts');
    const yoga = await reference('Yoga alone', 'bench/baseline/yogaServer.ts');
    const gql = await reference('graphql-js alone', 'bench/baseline/graphqlServer.ts');
    const dur = await reference('group commit alone', 'bench/baseline/durableServer.ts', db.url);
    const gqlDur = await reference('graphql-js + group commit', 'bench/baseline/graphqlServer.ts', db.url);
    const real = target('cowrite', server, true, true);
    const targets = [base, yoga, gql, dur, gqlDur, real];
    await drive(server.url, token, writers, 2); // warm-up
    // Turns, not one long run each: a machine whose speed drifts during the run slows every server alike.
    for (let round = 0; round < ROUNDS; round++) {
      for (const t of targets) {
        const split = cpuSplit(t.proc);
        const { latencies, errors } = await drive(t.proc.url, token, t.writers, SECONDS / ROUNDS);
        const cpu = split();
        t.rates.push(latencies.length / (SECONDS / ROUNDS));
        t.latencies.push(...latencies);
        t.errors += errors;
        for (const k of ['server', 'serverMain', 'postgres', 'client'] as const) t.cpu[k] += cpu[k];
      }
    }
    // Every acknowledged edit is in the database.
    const rows = await post(server.url, JSON.stringify({ query: 'query($d: ID!) { document(id: $d) { length } }', variables: { d: writers[0]!.documentId } }), token);
    /** The median over turns of t's rate over the baseline's in the same turn. */
    const ratio = (t: Target) => median(t.rates.map((r, i) => r / base.rates[i]!));
    const line = (t: Target, what: string, unit = 'req/s') =>
      `${fmt(median(t.rates), 0)} ${unit} (turns ${t.rates.map((r) => fmt(r, 0)).join(', ')}), p50 ${fmt(percentile(t.latencies, 50))} ms, p99 ${fmt(percentile(t.latencies, 99))} ms${t === base ? '' : `, ${fmt(ratio(t))}x baseline`}${what}`;
    console.log(`    baseline (bare node:http, same client and bodies): ${line(base, '')}`);
    console.log(`    reference (GraphQL Yoga alone, no-op resolver):    ${line(yoga, '')}`);
    console.log(`    reference (graphql-js alone over node:http):       ${line(gql, '')}`);
    console.log(`    reference (node:http + group commit, no GraphQL):  ${line(dur, ': durable storage alone, group-committed as cowrite does')}`);
    console.log(`    reference (graphql-js + group commit):             ${line(gqlDur, ': the GraphQL mutation and the durable acknowledgement alone, no auth, no CRDT')}`);
    console.log(`    cowrite editDocument (durable):                    ${line(real, `, errors ${real.errors}`, 'edits/s')}`);
    console.log(
      `    median ratio over turns, cowrite/baseline: ${fmt(ratio(real))}x (target >= 0.4x); cowrite/group-commit-alone: ${fmt(median(real.rates.map((r, i) => r / dur.rates[i]!)))}x; cowrite/graphql-js+group-commit: ${fmt(median(real.rates.map((r, i) => r / gqlDur.rates[i]!)))}x; p99 ${fmt(percentile(real.latencies, 99))} ms (target < 25 ms)`,
    );
    const us = (t: Target, ms: number) => fmt((ms * 1000) / t.latencies.length, 0);
    console.log(`    server CPU per acknowledged edit: ${us(real, real.cpu.server)} us (main thread ${us(real, real.cpu.serverMain)} us; steadier than rates on a shared machine)`);
    const split = (t: Target) => `${t.name} ${us(t, t.cpu.server)}${t.durable ? ` + PostgreSQL ${us(t, t.cpu.postgres)}` : ''} + client ${us(t, t.cpu.client)}`;
    console.log(`    CPU per request, by process (us): ${targets.map(split).join('; ')}`);
    const cores = os.cpus().length;
    console.log(`    (all three share ${cores} cores: at 0.4x the baseline's median rate they would have ${fmt((cores * 1e6) / (0.4 * median(base.rates)), 0)} us of CPU per edit between them)`);
    console.log(`    check: document 0 length ${rows.json.data.document.length} = its writer's acknowledged edits ${writers[0]!.seq}`);
  } finally {
    for (const p of procs) await p.stop();
    await db.drop();
  }
}
