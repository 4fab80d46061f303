import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { post } from './lib/http.js';
import { benchDatabase, spawnCowrite, type Proc } from './lib/processes.js';
import { EDIT, createDoc, joinDoc, signUp } from './lib/setup.js';
import { fmt, header, percentile } from './lib/stats.js';
import type { ChangeEvent } from './lib/ws.js';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);
const WRITE_RATE = 50;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CHANGES = 'subscription($d: ID!, $since: Version) { documentChanges(documentId: $d, since: $since) { version ops { ... on InsertOp { pos text } ... on DeleteOp { pos len } } } }';

/**
 * A subscriber that follows one instance and, when its connection drops, resubscribes on another
 * from the last version it received (what a graphql-ws client with a list of endpoints does).
 * It keeps the text its events build, to check that nothing was lost on the way.
 */
class Follower {
  text: string[] = [];
  /** From the empty document, so the text it builds is the whole document. */
  version: unknown = [];
  url = '';
  private generation = 0;
  client: Client | null = null;
  /** When the current connection started, and when its first event came. */
  firstEventAt: number | null = null;
  constructor(private readonly token: string, private readonly documentId: string) {}

  follow(url: string, onEvent: () => void = () => undefined): void {
    this.url = url;
    this.firstEventAt = null;
    // Events of a connection being closed may still arrive: only the current one counts.
    const generation = ++this.generation;
    const client = createClient({ url, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${this.token}` }, retryAttempts: 0, lazy: false, onNonLazyError: () => undefined });
    this.client = client;
    client.subscribe<{ documentChanges: ChangeEvent }>(
      { query: CHANGES, variables: { d: this.documentId, since: this.version } },
      {
        next: (r) => {
          const e = r.data?.documentChanges;
          if (!e || generation !== this.generation) return;
          for (const op of e.ops) {
            if (op.text !== undefined) this.text.splice(op.pos, 0, ...Array.from(op.text));
            else this.text.splice(op.pos, op.len ?? 0);
          }
          this.version = e.version;
          this.firstEventAt ??= performance.now();
          onEvent();
        },
        error: () => undefined,
        complete: () => undefined,
      },
    );
  }

  async close(): Promise<void> {
    await this.client?.dispose();
  }
}

async function until(pred: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (!pred()) {
    if (performance.now() > end) return false;
    await new Promise((r) => setTimeout(r, 2));
  }
  return true;
}

/** Runs `trigger`, which moves every follower to `to`; returns ms from the trigger to each one's first event there. */
async function switchOver(followers: Follower[], to: string, trigger: () => Promise<void> | void): Promise<number[]> {
  const t0 = performance.now();
  await trigger();
  const moved = (f: Follower) => f.url === to && f.firstEventAt !== null;
  await until(() => followers.every(moved), 20_000);
  return followers.filter(moved).map((f) => f.firstEventAt! - t0);
}

export async function failover(): Promise<void> {
  header(`Failover: ${CLIENTS} subscribers on instance A, a writer on B at ${WRITE_RATE} edits/s; kill -9 of A`, 'npm run bench -- failover');
  const db = await benchDatabase();
  const env = { DATABASE_URL: db.url, REDIS_URL };
  const a = await spawnCowrite(env);
  const b = await spawnCowrite(env);
  const wsUrl = (p: Proc) => p.url.replace(/^http/, 'ws');
  let writing = true;
  try {
    const token = await signUp(b.url);
    const doc = await createDoc(b.url, token, '');
    const writer = await joinDoc(b.url, token, doc);
    let parents = writer.version;
    let seq = 0;
    const writes = (async () => {
      while (writing) {
        const due = performance.now() + 1000 / WRITE_RATE;
        const r = await post(b.url, JSON.stringify({ query: EDIT, variables: { i: { documentId: doc, agent: writer.agent, seq, parents, ops: [{ insert: { pos: seq, text: 'x' } }] } } }), token);
        if (r.json.errors) throw new Error(JSON.stringify(r.json.errors));
        parents = r.json.data.editDocument.version;
        seq++;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((res) => setTimeout(res, wait));
      }
    })();

    const followers = Array.from({ length: CLIENTS }, () => new Follower(token, doc));
    for (const f of followers) f.follow(wsUrl(a));
    await until(() => followers.every((f) => f.firstEventAt !== null), 20_000);

    // Baseline: each client leaves A by itself and resubscribes on B from its last version.
    const base = await switchOver(followers, wsUrl(b), async () => {
      for (const f of followers) {
        await f.close();
        f.follow(wsUrl(b));
      }
    });
    // Back to A for the real thing.
    for (const f of followers) {
      await f.close();
      f.follow(wsUrl(a));
    }
    await until(() => followers.every((f) => f.firstEventAt !== null), 20_000);
    await new Promise((r) => setTimeout(r, 1000));

    // kill -9 of A: each client notices its socket close and resubscribes on B from its last version.
    for (const f of followers) {
      const client = f.client!;
      client.on('closed', () => {
        if (f.client === client) f.follow(wsUrl(b));
      });
    }
    const real = await switchOver(followers, wsUrl(b), () => void a.child.kill('SIGKILL'));

    await new Promise((r) => setTimeout(r, 500));
    writing = false;
    await writes;
    const final = (await post(b.url, JSON.stringify({ query: 'query($d: ID!) { document(id: $d) { content } }', variables: { d: doc } }), token)).json.data.document.content as string;
    await until(() => followers.every((f) => f.text.join('') === final), 5_000);
    const intact = followers.filter((f) => f.text.join('') === final).length;

    const p = (v: number[], q: number) => fmt(percentile(v, q), 1);
    console.log(`    baseline (client leaves A itself, resubscribes on B): time to a live event again p50 ${p(base, 50)} ms, p99 ${p(base, 99)} ms (${base.length}/${CLIENTS} clients)`);
    console.log(`    kill -9 of A (clients notice the dropped socket):     time to a live event again p50 ${p(real, 50)} ms, p99 ${p(real, 99)} ms, max ${fmt(Math.max(...real), 1)} ms (${real.length}/${CLIENTS} clients)`);
    console.log(`    ratio p50 kill/baseline: ${fmt(percentile(real, 50) / percentile(base, 50))}x; ${intact}/${CLIENTS} clients' replayed streams equal the final text (${final.length} chars): nothing lost or repeated`);
    for (const f of followers) await f.close();
  } finally {
    writing = false;
    await a.stop();
    await b.stop();
    await db.drop();
  }
}
