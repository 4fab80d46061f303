import WebSocket from 'ws';
import { post } from './lib/http.js';
import { benchDatabase, spawnCowrite, spawnScript } from './lib/processes.js';
import { EDIT, createDoc, joinDoc, signUp } from './lib/setup.js';
import { fmt, header, percentile } from './lib/stats.js';

const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 1000);
const RATE = 100;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const SEQ = /"version":\[\["[^"]+",(\d+)\]\]/;

/** Latency bookkeeping: for each published seq, when it was sent and when the last subscriber got it. */
class Tracker {
  sent = new Map<number, number>();
  got = new Map<number, { n: number; last: number }>();
  receive(lastSeen: number, seq: number, now: number) {
    for (let k = lastSeen + 1; k <= seq; k++) {
      const g = this.got.get(k) ?? { n: 0, last: 0 };
      g.n++;
      g.last = now;
      this.got.set(k, g);
    }
  }
  latencies(subscribers: number): { all: number[]; complete: number } {
    const all: number[] = [];
    for (const [k, t] of this.sent) {
      const g = this.got.get(k);
      if (g && g.n === subscribers) all.push(g.last - t);
    }
    return { all, complete: all.length };
  }
}

function openSockets(url: string, n: number, onOpen: (ws: WebSocket, i: number) => void, protocol?: string): Promise<WebSocket[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(url, protocol);
        ws.once('open', () => {
          onOpen(ws, i);
          resolve(ws);
        });
        ws.once('error', reject);
      }),
    ),
  );
}

async function pace(seconds: number, send: (k: number) => Promise<void>) {
  const end = performance.now() + seconds * 1000;
  for (let k = 0; performance.now() < end; k++) {
    const due = performance.now() + 1000 / RATE;
    await send(k);
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

export async function fanout(): Promise<void> {
  header(`Fan-out: one writer at ${RATE} edits/s, ${SUBSCRIBERS} documentChanges subscribers (one socket each), ${SECONDS} s`, 'npm run bench -- fanout');
  const db = await benchDatabase();
  const server = await spawnCowrite({ DATABASE_URL: db.url });
  const bare = await spawnScript('bench/baseline/wsBroadcast.ts');
  try {
    const token = await signUp(server.url);
    const doc = await createDoc(server.url, token, '');
    const writer = await joinDoc(server.url, token, doc);

    // cowrite: graphql-transport-ws by hand (the client side stays cheap), one socket per subscriber.
    const t1 = new Tracker();
    let ready = 0;
    const sockets = await openSockets(
      server.url.replace(/^http/, 'ws'),
      SUBSCRIBERS,
      (ws) => {
        let lastSeen = -1;
        ws.on('message', (data) => {
          const text = String(data);
          if (text.startsWith('{"type":"connection_ack"')) {
            ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription($d: ID!) { documentChanges(documentId: $d) { version ops { ... on InsertOp { pos text } } } }', variables: { d: doc } } }));
            ready++;
            return;
          }
          const m = SEQ.exec(text);
          if (!m) return;
          const seq = Number(m[1]);
          t1.receive(lastSeen, seq, performance.now());
          lastSeen = seq;
        });
        ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
      },
      'graphql-transport-ws',
    );
    while (ready < SUBSCRIBERS) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    let parents = writer.version;
    await pace(SECONDS, async (k) => {
      t1.sent.set(k, performance.now());
      const r = await post(server.url, JSON.stringify({ query: EDIT, variables: { i: { documentId: doc, agent: writer.agent, seq: k, parents, ops: [{ insert: { pos: k, text: 'x' } }] } } }), token);
      if (r.json.errors) throw new Error(JSON.stringify(r.json.errors));
      parents = r.json.data.editDocument.version;
    });
    await new Promise((r) => setTimeout(r, 2000));
    for (const s of sockets) s.terminate();

    // Baseline: the same number of sockets on a bare ws relay, the same message bytes.
    const t2 = new Tracker();
    const sample = (k: number) => JSON.stringify({ id: '1', type: 'next', payload: { data: { documentChanges: { version: [[writer.agent, k]], ops: [{ pos: k, text: 'x' }] } } } });
    const subs = await openSockets(`ws://127.0.0.1:${bare.port}`, SUBSCRIBERS, (ws) => {
      let lastSeen = -1;
      ws.on('message', (data) => {
        const m = SEQ.exec(String(data));
        if (!m) return;
        const seq = Number(m[1]);
        t2.receive(lastSeen, seq, performance.now());
        lastSeen = seq;
      });
    });
    const [publisher] = await openSockets(`ws://127.0.0.1:${bare.port}`, 1, () => undefined);
    await new Promise((r) => setTimeout(r, 500));
    await pace(SECONDS, async (k) => {
      t2.sent.set(k, performance.now());
      publisher!.send(sample(k));
    });
    await new Promise((r) => setTimeout(r, 2000));
    for (const s of [...subs, publisher!]) s.terminate();

    const real = t1.latencies(SUBSCRIBERS);
    const base = t2.latencies(SUBSCRIBERS);
    const p = (v: number[], q: number) => fmt(percentile(v, q));
    console.log(`    baseline (bare ws relay, same bytes):  edit-to-last-subscriber p50 ${p(base.all, 50)} ms, p99 ${p(base.all, 99)} ms (${base.complete}/${t2.sent.size} messages reached all)`);
    console.log(`    cowrite (editDocument -> documentChanges): p50 ${p(real.all, 50)} ms, p99 ${p(real.all, 99)} ms (${real.complete}/${t1.sent.size} edits reached all ${SUBSCRIBERS})`);
    console.log(`    ratio p50 cowrite/baseline: ${fmt(percentile(real.all, 50) / percentile(base.all, 50))}x (target <= 3x); p99 ${p(real.all, 99)} ms (target < 50 ms)`);
  } finally {
    await bare.stop();
    await server.stop();
    await db.drop();
  }
}
