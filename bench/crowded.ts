import { gqlOk, post } from './lib/http.js';
import { benchDatabase, spawnCowrite } from './lib/processes.js';
import { EDIT, createDoc, joinDoc, signUp, typist } from './lib/setup.js';
import { fmt, header, percentile } from './lib/stats.js';
import { subscribe, wsClient } from './lib/ws.js';

const WRITERS = 16;
const SUBSCRIBERS = 10;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const WINDOW = 5;
const UPDATE_PRESENCE = 'mutation($d: ID!, $a: String!, $c: CursorInput, $v: Version) { updatePresence(documentId: $d, agent: $a, cursor: $c, version: $v) { agent } }';

/**
 * The engine's worst case: 16 writers flat out on one document, each sending its next edit against the
 * version its last reply returned (which holds only its own edits, so writers are always concurrent),
 * while the document's text is read twice a second, snapshot jobs run, another document is edited, and
 * a participant who does not type keeps a cursor in it (moved through every edit, a transform too).
 *
 * With `follower` (`npm run bench -- follower`), someone also types five times a second from the
 * version of the last event it got, as an editor that applies others' changes does, and after each
 * edit sends its cursor without a version: the text's length at such versions must be known to check
 * them, and on this history finding it costs as much as a transform. (Its edits lag by the event latency, so they are concurrent with much of the
 * history, and every later transform pays for that.)
 */
export async function crowded({ follower: withFollower = false } = {}): Promise<void> {
  header(
    `Crowded document: ${WRITERS} writers flat out on one document, ${SUBSCRIBERS} subscribers, its text read twice a second, jobs running${withFollower ? ', a follower typing from event versions' : ''}, ${SECONDS} s in ${WINDOW} s windows`,
    `npm run bench -- ${withFollower ? 'follower' : 'crowded'}`,
  );
  const db = await benchDatabase();
  // As `npm start` runs: with the job runner, so snapshots of the crowded document run meanwhile.
  const server = await spawnCowrite({ DATABASE_URL: db.url, RUN_WORKER: 'true' });
  const url = server.url;
  try {
    const token = await signUp(url);
    const doc = await createDoc(url, token, 'crowded\n');
    const other = await createDoc(url, token, 'other\n');
    const windows = Math.ceil(SECONDS / WINDOW);
    const acks = new Array<number>(windows).fill(0);
    const probeLatency: number[][] = Array.from({ length: windows }, () => []);
    const otherLatency: number[][] = Array.from({ length: windows }, () => []);
    const readLatency: number[][] = Array.from({ length: windows }, () => []);
    const cursorMoves = new Array<number>(windows).fill(0);
    const followerLatency: number[][] = Array.from({ length: windows }, () => []);
    const cursorLatency: number[][] = Array.from({ length: windows }, () => []);
    let start = 0;
    const windowOf = (t: number) => Math.min(windows - 1, Math.floor((t - start) / (WINDOW * 1000)));

    // Subscribers look for probe markers: the time from sending a probe edit to its event arriving.
    const probeSent = new Map<string, number>();
    const clients = Array.from({ length: SUBSCRIBERS }, () => wsClient(url, token));
    const seenBy = new Map<string, number>();
    for (const c of clients) {
      subscribe(c, doc, (e) => {
        const now = performance.now();
        for (const op of e.ops) {
          if (!op.text) continue;
          for (const m of op.text.matchAll(/⟦(\d+)⟧/g)) {
            const sent = probeSent.get(m[1]!);
            if (sent === undefined) continue;
            const n = (seenBy.get(m[1]!) ?? 0) + 1;
            seenBy.set(m[1]!, n);
            if (n === SUBSCRIBERS) probeLatency[windowOf(sent)]!.push(now - sent); // the last subscriber's latency
          }
        }
      });
    }
    const writers = await Promise.all(Array.from({ length: WRITERS }, () => joinDoc(url, token, doc)));
    const probe = await joinDoc(url, token, doc);
    const otherWriter = await joinDoc(url, token, other);
    const follower = await joinDoc(url, token, doc);
    let followed: unknown = follower.version;
    const followerClient = withFollower ? wsClient(url, token) : null;
    const unfollow = followerClient ? subscribe(followerClient, doc, (e) => (followed = e.version), follower.version) : () => undefined;

    // A participant who only watches: present (held by its subscription), its cursor selecting the
    // end of the first line, which the writers type after; a watcher counts the moves shown to it.
    const parked = await joinDoc(url, token, doc);
    const presence = wsClient(url, token);
    const PRESENCE = 'subscription($d: ID!, $a: String) { documentPresence(documentId: $d, agent: $a) { participants { agent cursor { head } } } }';
    const hold = presence.subscribe({ query: PRESENCE, variables: { d: doc, a: parked.agent } }, { next: () => undefined, error: (e) => console.error('presence failed', e), complete: () => undefined });
    const watch = presence.subscribe<{ documentPresence: { participants: { agent: string; cursor: { head: number } | null }[] } }>(
      { query: PRESENCE, variables: { d: doc } },
      {
        next: (r) => {
          if (start > 0 && r.data?.documentPresence.participants.some((p) => p.agent === parked.agent)) cursorMoves[windowOf(performance.now())]!++;
        },
        error: (e) => console.error('presence failed', e),
        complete: () => undefined,
      },
    );
    await gqlOk(url, UPDATE_PRESENCE, { d: doc, a: parked.agent, c: { anchor: 7, head: 8 }, v: parked.version }, token);

    // Other document, before the crowd: its ack latency alone.
    const otherTypist = typist(url, token, other, otherWriter, 6);
    const otherEdit = () => otherTypist.type('o');
    const alone: number[] = [];
    const aloneEnd = performance.now() + 3000;
    while (performance.now() < aloneEnd) {
      alone.push(await otherEdit());
      await new Promise((r) => setTimeout(r, 10));
    }

    start = performance.now();
    const end = start + SECONDS * 1000;
    const writerLoops = writers.map(async (w) => {
      const writer = typist(url, token, doc, w, 8);
      while (performance.now() < end) {
        await writer.type('x');
        acks[windowOf(performance.now())]!++;
      }
    });
    const probeLoop = (async () => {
      const writer = typist(url, token, doc, probe, 8);
      for (let k = 0; performance.now() < end; k++) {
        probeSent.set(String(k), performance.now());
        await writer.type(`⟦${k}⟧`);
        await new Promise((res) => setTimeout(res, 100));
      }
    })();
    const followerLoop = (async () => {
      let seq = 0;
      while (withFollower && performance.now() < end) {
        const t = performance.now();
        const r = await post(url, JSON.stringify({ query: EDIT, variables: { i: { documentId: doc, agent: follower.agent, seq, parents: followed, ops: [{ insert: { pos: 0, text: 'f' } }] } } }), token);
        if (r.json.errors) throw new Error(JSON.stringify(r.json.errors));
        seq++;
        followerLatency[windowOf(t)]!.push(performance.now() - t);
        const c = performance.now();
        await gqlOk(url, UPDATE_PRESENCE, { d: doc, a: follower.agent, c: { anchor: 1, head: 1 } }, token);
        cursorLatency[windowOf(c)]!.push(performance.now() - c);
        await new Promise((res) => setTimeout(res, 200));
      }
    })();
    const otherLoop = (async () => {
      while (performance.now() < end) {
        const t = performance.now();
        otherLatency[windowOf(t)]!.push(await otherEdit());
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    // Someone opens the crowded document twice a second: its text is a checkout, which costs as much
    // as a transform here; it must not hold up the other document's edits.
    const readerLoop = (async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await gqlOk(url, 'query($d: ID!) { document(id: $d) { length } }', { d: doc }, token);
        readLatency[windowOf(t)]!.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    await Promise.all([...writerLoops, probeLoop, followerLoop, otherLoop, readerLoop]);
    await new Promise((r) => setTimeout(r, 2000)); // let the last events arrive

    console.log(`    other document alone (before the crowd): ack p50 ${fmt(percentile(alone, 50))} ms, p99 ${fmt(percentile(alone, 99))} ms`);
    console.log(`    window     edits/s   event latency p50 / p99 (ms, probe to last subscriber)   other-document ack p50 / p99 (ms)   read of the crowded text p50 (ms)   parked cursor moves shown${withFollower ? '   follower ack p50 / p99 (ms)   its cursor updates p50 / p99 (ms)' : ''}`);
    for (let i = 0; i < windows; i++) {
      const pl = probeLatency[i]!;
      const ol = otherLatency[i]!;
      console.log(
        `    ${String(i * WINDOW).padStart(3)}-${String((i + 1) * WINDOW).padEnd(3)}s ${fmt(acks[i]! / WINDOW, 0).padStart(9)}   ${fmt(percentile(pl, 50)).padStart(8)} / ${fmt(percentile(pl, 99)).padEnd(8)} (${pl.length} probes)`.padEnd(88) +
          `${fmt(percentile(ol, 50))} / ${fmt(percentile(ol, 99))}`.padEnd(36) +
          fmt(percentile(readLatency[i]!, 50)).padEnd(36) +
          String(cursorMoves[i]).padEnd(28) +
          (withFollower ? `${fmt(percentile(followerLatency[i]!, 50))} / ${fmt(percentile(followerLatency[i]!, 99))}`.padEnd(30) + `${fmt(percentile(cursorLatency[i]!, 50))} / ${fmt(percentile(cursorLatency[i]!, 99))}` : ''),
      );
    }
    const total = acks.reduce((a, b) => a + b, 0);
    console.log(`    total ${total} acknowledged edits; last window / first window = ${fmt(acks[windows - 1]! / acks[0]!)} (target >= 0.5)`);
    unfollow();
    await followerClient?.dispose();
    hold();
    watch();
    await presence.dispose();
    for (const c of clients) await c.dispose();
  } finally {
    await server.stop();
    await db.drop();
  }
}
