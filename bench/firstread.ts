import { gqlOk } from './lib/http.js';
import { benchDatabase, spawnCowrite } from './lib/processes.js';
import { createDoc, joinDoc, signUp, typist } from './lib/setup.js';
import { fmt, header, percentile } from './lib/stats.js';

const WRITERS = 16;
const CROWD_MS = 10_000;

/**
 * The first read of a crowded document: 16 writers flat out on one document for 10 s with nobody
 * reading it, then one `length` read while another document is being edited. A checkout of such a
 * history costs as much as a transform; this shows whether the other document's edits wait for it.
 * Baseline, same run: a server that sends a document's reads to the change-feed thread only after
 * one was slow on the main thread (READ_OFFLOAD_CONCURRENT_EDITS=0), as before that setting existed.
 */
export async function firstread(): Promise<void> {
  header(`First read of a crowded document: ${WRITERS} writers on one document for ${CROWD_MS / 1000} s, then one read while another document is edited every 5 ms`, 'npm run bench -- firstread');
  const baseline = await once({ READ_OFFLOAD_CONCURRENT_EDITS: '0' });
  const cowrite = await once({});
  const line = (name: string, r: Awaited<ReturnType<typeof once>>) =>
    console.log(
      `    ${name} ${r.edits} crowd edits; the read took ${fmt(r.readMs, 0)} ms; other document's acks meanwhile: p50 ${fmt(r.p50)} ms, max ${fmt(r.max)} ms (${r.count} edits); reads done on the change-feed thread: ${r.offloaded}`,
    );
  line('baseline (offload after a slow read):', baseline);
  line('cowrite (offload once crowded):      ', cowrite);
  console.log(`    other document's slowest ack: ${fmt(cowrite.max)} ms vs ${fmt(baseline.max)} ms (${fmt(baseline.max / cowrite.max)}x less)`);
}

async function once(env: Record<string, string>) {
  const db = await benchDatabase();
  const server = await spawnCowrite({ DATABASE_URL: db.url, ...env });
  const url = server.url;
  try {
    const token = await signUp(url);
    const doc = await createDoc(url, token, 'crowded\n');
    const other = await createDoc(url, token, 'other\n');
    const writers = await Promise.all(Array.from({ length: WRITERS }, () => joinDoc(url, token, doc)));
    const otherWriter = await joinDoc(url, token, other);
    let crowding = true;
    let edits = 0;
    // Each writer edits against the version its last reply returned: always concurrent with the others.
    const crowd = writers.map(async (w) => {
      const writer = typist(url, token, doc, w, 8);
      while (crowding) {
        await writer.type('x');
        edits++;
      }
    });
    await new Promise((r) => setTimeout(r, CROWD_MS));
    const acks: number[] = [];
    let editing = true;
    const otherLoop = (async () => {
      const writer = typist(url, token, other, otherWriter, 6);
      while (editing) {
        acks.push(await writer.type('o'));
        await new Promise((res) => setTimeout(res, 5));
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    await gqlOk(url, 'query($d: ID!) { document(id: $d) { length } }', { d: doc }, token);
    const readMs = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 300));
    editing = false;
    await otherLoop;
    crowding = false;
    await Promise.all(crowd);
    const metrics = await (await fetch(url.replace('/graphql', '/metrics'))).text();
    const offloaded = /^cowrite_offloaded_reads_total\{what="text"\} (\d+)/m.exec(metrics)?.[1] ?? '0';
    return { edits, readMs, p50: percentile(acks, 50), max: Math.max(...acks), count: acks.length, offloaded };
  } finally {
    await server.stop();
    await db.drop();
  }
}
