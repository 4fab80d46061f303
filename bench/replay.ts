import { gqlOk, post } from './lib/http.js';
import { benchDatabase, spawnCowrite } from './lib/processes.js';
import { EDIT, createDoc, joinDoc, signUp } from './lib/setup.js';
import { fmt, header } from './lib/stats.js';
import { EXPECTED_SHA, eventsOf, readTrace, sha256, toOps, type ConcurrentTrace, type SequentialTrace, type WireOp } from './lib/traces.js';

const MAX_OPS = 1000;

/** Replays a sequential trace through editDocument: consecutive patches go together, up to 1,000 ops an edit. */
export async function replaySequential(
  url: string,
  token: string,
  documentId: string,
  trace: SequentialTrace,
  onVersion: (v: unknown) => void = () => undefined,
): Promise<{ events: number; ms: number; edits: number }> {
  const w = await joinDoc(url, token, documentId);
  let seq = 0;
  let parents = w.version;
  let batch: WireOp[] = [];
  let events = 0;
  let edits = 0;
  const t0 = performance.now();
  const send = async () => {
    if (batch.length === 0) return;
    const n = batch.reduce((a, op) => a + eventsOf(op), 0);
    const r = await post(url, JSON.stringify({ query: EDIT, variables: { i: { documentId, agent: w.agent, seq, parents, ops: batch } } }), token);
    if (r.json.errors) throw new Error(JSON.stringify(r.json.errors));
    parents = r.json.data.editDocument.version;
    onVersion(parents);
    seq += n;
    events += n;
    edits++;
    batch = [];
  };
  for (const txn of trace.txns) {
    for (const p of txn.patches) {
      batch.push(...toOps(p));
      if (batch.length >= MAX_OPS) await send();
    }
  }
  await send();
  return { events, ms: performance.now() - t0, edits };
}

/**
 * Replays a concurrent trace: one joined agent per trace agent, each transaction sent against the
 * versions of its recorded parents. Chains of one agent's transactions that build on each other go
 * together in one edit.
 */
async function replayConcurrent(url: string, token: string, documentId: string, trace: ConcurrentTrace) {
  const agents = await Promise.all(Array.from({ length: trace.numAgents }, () => joinDoc(url, token, documentId)));
  const nextSeq = new Array<number>(trace.numAgents).fill(0);
  const versionOf: [string, number][][] = [];
  let events = 0;
  let edits = 0;
  const t0 = performance.now();
  let i = 0;
  while (i < trace.txns.length) {
    const first = trace.txns[i]!;
    const a = first.agent;
    const parents = first.parents.flatMap((p) => versionOf[p]!);
    const ops: WireOp[] = first.patches.flatMap(toOps);
    // Events of the batch after each of its transactions, so each one gets its own version.
    const upTo = [ops.reduce((s, op) => s + eventsOf(op), 0)];
    let j = i + 1;
    while (j < trace.txns.length && ops.length < MAX_OPS) {
      const t = trace.txns[j]!;
      if (t.agent !== a || t.parents.length !== 1 || t.parents[0] !== j - 1) break;
      const more = t.patches.flatMap(toOps);
      ops.push(...more);
      upTo.push(upTo[upTo.length - 1]! + more.reduce((s, op) => s + eventsOf(op), 0));
      j++;
    }
    const n = upTo[upTo.length - 1]!;
    const start = nextSeq[a]!;
    if (n > 0) {
      const r = await post(url, JSON.stringify({ query: EDIT, variables: { i: { documentId, agent: agents[a]!.agent, seq: nextSeq[a], parents, ops } } }), token);
      if (r.json.errors) throw new Error(`txn ${i}: ${JSON.stringify(r.json.errors)}`);
      nextSeq[a]! += n;
      events += n;
      edits++;
    }
    for (let k = i; k < j; k++) {
      const done = upTo[k - i]!;
      versionOf[k] = done > 0 ? [[agents[a]!.agent, start + done - 1]] : parents;
    }
    i = j;
  }
  return { events, ms: performance.now() - t0, edits };
}

export async function replay(): Promise<void> {
  header('Trace replay through the API (editDocument), final text checked against traces/README.md', 'npm run bench -- replay');
  const db = await benchDatabase();
  const server = await spawnCowrite({ DATABASE_URL: db.url });
  try {
    const token = await signUp(server.url);
    for (const file of ['sequential/automerge-paper.json.gz', 'concurrent/friendsforever.json.gz', 'concurrent/clownschool.json.gz']) {
      const doc = await createDoc(server.url, token, '');
      const r = file.startsWith('sequential/')
        ? await replaySequential(server.url, token, doc, readTrace<SequentialTrace>(file))
        : await replayConcurrent(server.url, token, doc, readTrace<ConcurrentTrace>(file));
      const content = (await gqlOk(server.url, 'query($d: ID!) { document(id: $d) { content } }', { d: doc }, token)).document.content as string;
      const ok = sha256(content) === EXPECTED_SHA[file];
      console.log(`    ${file.padEnd(38)} ${String(r.events).padStart(7)} events in ${String(r.edits).padStart(5)} edits, ${fmt(r.ms / 1000)} s: ${fmt(r.events / (r.ms / 1000), 0)} events/s; sha256 ${ok ? 'matches' : 'DIFFERS'}`);
      if (!ok) process.exitCode = 1;
    }
  } finally {
    await server.stop();
    await db.drop();
  }
}
