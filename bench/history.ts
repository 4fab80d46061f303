import { gqlOk } from './lib/http.js';
import { benchDatabase, spawnCowrite } from './lib/processes.js';
import { createDoc, signUp } from './lib/setup.js';
import { fmt, header, percentile } from './lib/stats.js';
import { readTrace, type SequentialTrace } from './lib/traces.js';
import { replaySequential } from './replay.js';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 30);

/** Median and p90 of timed calls, in ms. */
async function timed(n: number, call: (i: number) => Promise<unknown>): Promise<{ p50: number; p90: number }> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await call(i);
    ms.push(performance.now() - t0);
  }
  return { p50: percentile(ms, 50), p90: percentile(ms, 90) };
}

export async function history(): Promise<void> {
  header('History: contentAt, diff and versions on the automerge-paper history (260k events) and one ten times longer', 'npm run bench -- history');
  const db = await benchDatabase();
  const server = await spawnCowrite({ DATABASE_URL: db.url });
  try {
    const token = await signUp(server.url);
    const trace = readTrace<SequentialTrace>('sequential/automerge-paper.json.gz');
    let seed = 1;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (const times of [1, 10]) {
      const doc = await createDoc(server.url, token, '');
      const seen: unknown[] = [];
      let events = 0;
      for (let k = 0; k < times; k++) events += (await replaySequential(server.url, token, doc, trace, (v) => seen.push(v))).events;
      const pick = () => seen[Math.floor(random() * seen.length)];
      const q = (query: string, variables: Record<string, unknown>) => gqlOk(server.url, query, { d: doc, ...variables }, token);
      const contentAt = await timed(SAMPLES, () => q('query($d: ID!, $v: Version) { document(id: $d) { contentAt(version: $v) } }', { v: pick() }));
      const diff = await timed(SAMPLES, () => q('query($d: ID!, $a: Version!, $b: Version) { document(id: $d) { diff(from: $a, to: $b) { hunks { oldStart } ops { __typename } } } }', { a: pick(), b: pick() }));
      for (let i = 0; i < 50; i++) await q('mutation($d: ID!, $n: String!) { createVersion(documentId: $d, name: $n) { id } }', { n: `v${i}` });
      const list = await timed(SAMPLES, () => q('query($d: ID!) { document(id: $d) { versions(first: 50) { edges { node { name version createdAt } } } } }', {}));
      const current = await timed(SAMPLES, () => q('query($d: ID!) { document(id: $d) { content } }', {}));
      console.log(
        `    ${times}x history (${events.toLocaleString()} events): contentAt p50 ${fmt(contentAt.p50)} ms (p90 ${fmt(contentAt.p90)}), diff p50 ${fmt(diff.p50)} ms (p90 ${fmt(diff.p90)}), ` +
          `versions listing (50) p50 ${fmt(list.p50)} ms; baseline, same document: current content p50 ${fmt(current.p50)} ms`,
      );
    }
    console.log('    targets: contentAt and diff p50 under 50 ms');
  } finally {
    await server.stop();
    await db.drop();
  }
}
