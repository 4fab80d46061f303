import { post, gqlOk } from './lib/http.js';
import os from 'node:os';
import { benchDatabase, cpuSplit, spawnCowrite, spawnScript } from './lib/processes.js';
import { fmt, header, percentile } from './lib/stats.js';

const WRITERS = 16;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
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
  return { rate: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors, count: latencies.length };
}

export async function throughput(): Promise<void> {
  header(`Durable edit throughput: ${WRITERS} writers, one document each, single-keystroke editDocument over HTTP, ${SECONDS} s`, 'npm run bench -- throughput');
  const db = await benchDatabase();
  const server = await spawnCowrite({ DATABASE_URL: db.url });
  const baseline = await spawnScript('bench/baseline/httpServer.ts');
  const yogaOnly = await spawnScript('bench/baseline/yogaServer.ts');
  const graphqlOnly = await spawnScript('bench/baseline/graphqlServer.ts');
  const durableOnly = await spawnScript('bench/baseline/durableServer.ts', [db.url]);
  try {
    const email = `bench-${Date.now()}@example.com`;
    const token = (await gqlOk(server.url, 'mutation($i: SignUpInput!) { signUp(input: $i) { token } }', { i: { email, password: 'bench password', displayName: 'bench' } })).signUp.token;
    const writers: Writer[] = [];
    for (let i = 0; i < WRITERS; i++) {
      const id = (await gqlOk(server.url, 'mutation { createDocument(input: { title: "bench" }) { document { id } } }', {}, token)).createDocument.document.id;
      const j = (await gqlOk(server.url, 'mutation($d: ID!) { joinDocument(documentId: $d) { agent version } }', { d: id }, token)).joinDocument;
      writers.push({ documentId: id, agent: j.agent, seq: 0, parents: j.version });
    }
    await drive(server.url, token, writers, 2); // warm-up
    const baseSplit = cpuSplit(baseline);
    const base = await drive(baseline.url, token, writers.map((w) => ({ ...w })), SECONDS);
    const baseCpu = baseSplit();
    const yoga = await drive(yogaOnly.url, token, writers.map((w) => ({ ...w })), SECONDS);
    const gqlSplit = cpuSplit(graphqlOnly);
    const gql = await drive(graphqlOnly.url, token, writers.map((w) => ({ ...w })), SECONDS);
    const gqlCpu = gqlSplit();
    const durSplit = cpuSplit(durableOnly);
    const dur = await drive(durableOnly.url, token, writers.map((w) => ({ ...w })), SECONDS);
    const durCpu = durSplit();
    const realSplit = cpuSplit(server);
    const real = await drive(server.url, token, writers, SECONDS);
    const realCpu = realSplit();
    // Every acknowledged edit is in the database.
    const rows = await post(server.url, JSON.stringify({ query: 'query($d: ID!) { document(id: $d) { length } }', variables: { d: writers[0]!.documentId } }), token);
    console.log(`    baseline (bare node:http, same client and bodies): ${fmt(base.rate, 0)} req/s, p50 ${fmt(base.p50)} ms, p99 ${fmt(base.p99)} ms`);
    console.log(`    reference (GraphQL Yoga alone, no-op resolver):    ${fmt(yoga.rate, 0)} req/s, p50 ${fmt(yoga.p50)} ms, p99 ${fmt(yoga.p99)} ms (${fmt(yoga.rate / base.rate)}x baseline)`);
    console.log(`    reference (graphql-js alone over node:http):       ${fmt(gql.rate, 0)} req/s, p50 ${fmt(gql.p50)} ms, p99 ${fmt(gql.p99)} ms (${fmt(gql.rate / base.rate)}x baseline)`);
    console.log(`    reference (node:http + group commit, no GraphQL):  ${fmt(dur.rate, 0)} req/s, p50 ${fmt(dur.p50)} ms, p99 ${fmt(dur.p99)} ms (${fmt(dur.rate / base.rate)}x baseline: durable storage alone, group-committed as cowrite does)`);
    console.log(`    cowrite editDocument (durable):                    ${fmt(real.rate, 0)} edits/s, p50 ${fmt(real.p50)} ms, p99 ${fmt(real.p99)} ms, errors ${real.errors}`);
    console.log(`    ratio cowrite/baseline: ${fmt(real.rate / base.rate)}x (target >= 0.4x); cowrite/Yoga-alone: ${fmt(real.rate / yoga.rate)}x; cowrite/group-commit-alone: ${fmt(real.rate / dur.rate)}x; p99 ${fmt(real.p99)} ms (target < 25 ms)`);
    const us = (ms: number, n: number) => fmt((ms * 1000) / n, 0);
    console.log(`    server CPU per acknowledged edit: ${us(realCpu.server, real.count)} us (main thread ${us(realCpu.serverMain, real.count)} us; steadier than rates on a shared machine)`);
    const cores = os.cpus().length;
    console.log(`    CPU per request, by process (us): cowrite ${us(realCpu.server, real.count)} + PostgreSQL ${us(realCpu.postgres, real.count)} + client ${us(realCpu.client, real.count)}; baseline ${us(baseCpu.server, base.count)} + client ${us(baseCpu.client, base.count)}; graphql-js alone ${us(gqlCpu.server, gql.count)} + client ${us(gqlCpu.client, gql.count)}; group commit alone ${us(durCpu.server, dur.count)} + PostgreSQL ${us(durCpu.postgres, dur.count)} + client ${us(durCpu.client, dur.count)}`);
    console.log(`    (all three share ${cores} cores: at 0.4x the baseline's rate they would have ${fmt((cores * 1e6) / (0.4 * base.rate), 0)} us of CPU per edit between them)`);
    console.log(`    check: document 0 length ${rows.json.data.document.length} = its writer's acknowledged edits ${writers[0]!.seq}`);
  } finally {
    await baseline.stop();
    await yogaOnly.stop();
    await graphqlOnly.stop();
    await durableOnly.stop();
    await server.stop();
    await db.drop();
  }
}
