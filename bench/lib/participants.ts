import WebSocket from 'ws';

/**
 * A process of presence participants for the presence benchmark (so receiving their events does not
 * share a core with the server). Usage (argv):
 *   cowrite <httpUrl> <token> <documentId> <count> <ratePerSecond> <seconds>
 *   bare <wsUrl> <count> <ratePerSecond> <seconds>
 * Each participant sends `rate` cursor updates a second, its update number as the cursor's anchor,
 * and notes when every other participant's update numbers reach it. Prints "ready" once all are
 * connected; on a line on stdin starts; when done prints { sent, deliveries, p50, p99, max } (ms).
 */
const [mode, url, ...rest] = process.argv.slice(2);
const [count, rate, seconds] = rest.slice(-3).map(Number) as [number, number, number];
const now = () => performance.timeOrigin + performance.now();
const sent = new Map<string, number[]>(); // agent -> send time of each update number
const latencies: number[] = [];
let deliveries = 0;
let total = 0;

interface P {
  ws: WebSocket;
  agent: string;
  send(k: number): void;
}
const participants: P[] = [];
const SEEN = /"agent":"([^"]+)","cursor":\{"anchor":(\d+)\}/g;

function receive(text: string) {
  const t = now();
  for (const m of text.matchAll(SEEN)) {
    const times = sent.get(m[1]!);
    const at = times?.[Number(m[2])];
    if (at === undefined) continue;
    latencies.push(t - at);
    deliveries++;
  }
}

async function joinAgent(token: string, documentId: string): Promise<string> {
  const r = await fetch(url!, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: 'mutation($d: ID!) { joinDocument(documentId: $d) { agent } }', variables: { d: documentId } }),
  });
  return ((await r.json()) as { data: { joinDocument: { agent: string } } }).data.joinDocument.agent;
}

async function cowrite(token: string, documentId: string, i: number): Promise<P> {
  const agent = await joinAgent(token, documentId);
  const ws = new WebSocket(url!.replace(/^http/, 'ws'), 'graphql-transport-ws');
  await new Promise((r) => ws.once('open', r));
  ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  await new Promise<void>((resolve) => ws.once('message', () => resolve()));
  ws.send(JSON.stringify({ id: 'p', type: 'subscribe', payload: { query: 'subscription($d: ID!, $a: String) { documentPresence(documentId: $d, agent: $a) { participants { agent cursor { anchor } } left } }', variables: { d: documentId, a: agent } } }));
  ws.on('message', (data) => receive(String(data)));
  const query = 'mutation($d: ID!, $a: String!, $c: CursorInput) { updatePresence(documentId: $d, agent: $a, cursor: $c) { agent } }';
  return {
    ws,
    agent,
    send: (k) => ws.send(JSON.stringify({ id: `u${k}`, type: 'subscribe', payload: { query, variables: { d: documentId, a: agent, c: { anchor: k, head: i % 50 } } } })),
  };
}

async function bare(i: number): Promise<P> {
  const agent = `p${i}`;
  const ws = new WebSocket(url!);
  await new Promise((r) => ws.once('open', r));
  ws.on('message', (data) => receive(String(data)));
  return { ws, agent, send: (k) => ws.send(JSON.stringify({ participants: [{ agent, cursor: { anchor: k } }] })) };
}

for (let i = 0; i < count; i++) {
  const p = mode === 'cowrite' ? await cowrite(rest[0]!, rest[1]!, i) : await bare(i);
  participants.push(p);
  sent.set(p.agent, []);
}
console.log('ready');

process.stdin.once('data', async () => {
  await new Promise((r) => setTimeout(r, 500)); // the first (full) presence events have arrived
  latencies.length = 0;
  deliveries = 0;
  const period = 1000 / rate;
  const start = performance.now();
  // Participants are spread over the period, each on its own schedule.
  await Promise.all(
    participants.map(async (p, i) => {
      await new Promise((r) => setTimeout(r, (i / participants.length) * period));
      for (let k = 0; performance.now() - start < seconds * 1000; k++) {
        const due = start + (i / participants.length) * period + (k + 1) * period;
        sent.get(p.agent)![k] = now();
        p.send(k);
        total++;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    }),
  );
  await new Promise((r) => setTimeout(r, 1500));
  const sorted = latencies.sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
  process.stdout.write(`${JSON.stringify({ sent: total, deliveries, p50: q(50), p99: q(99), max: sorted.at(-1) ?? NaN })}\n`, () => {
    for (const p of participants) p.ws.terminate();
    process.exit(0);
  });
});
