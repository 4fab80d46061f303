import WebSocket from 'ws';

/**
 * A process of subscriber sockets for the fan-out benchmark, so that receiving 100,000 messages a
 * second does not starve the writer and the timer in the bench process. Usage (argv):
 *   cowrite <wsUrl> <token> <documentId> <count>  |  bare <wsUrl> <count>
 * Prints "ready" once every socket is subscribed; on any line on stdin, prints the receipts as JSON
 * ({ [seq]: [sockets that got it, epoch ms of the last, epoch ms of the first] }) and exits.
 */
const [mode, url, ...rest] = process.argv.slice(2);
const count = Number(rest[rest.length - 1]);
const SEQ = /"version":\[\["[^"]+",(\d+)\]\]/;
const got = new Map<number, [number, number, number]>();
const now = () => performance.timeOrigin + performance.now();
let ready = 0;
const sockets: WebSocket[] = [];

function track(ws: WebSocket) {
  let lastSeen = -1;
  ws.on('message', (data) => {
    const m = SEQ.exec(String(data));
    if (!m) return;
    const seq = Number(m[1]);
    const t = now();
    for (let k = lastSeen + 1; k <= seq; k++) {
      const g = got.get(k) ?? [0, 0, t];
      g[0]++;
      g[1] = t;
      got.set(k, g);
    }
    lastSeen = seq;
  });
}

for (let i = 0; i < count; i++) {
  const ws = new WebSocket(url!, mode === 'cowrite' ? 'graphql-transport-ws' : undefined);
  sockets.push(ws);
  ws.on('error', (e) => console.error('socket error', e.message));
  if (mode === 'cowrite') {
    const [token, documentId] = rest;
    ws.once('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    ws.on('message', function onAck(data) {
      if (!String(data).startsWith('{"type":"connection_ack"')) return;
      ws.off('message', onAck);
      ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription($d: ID!) { documentChanges(documentId: $d) { version ops { ... on InsertOp { pos text } } } }', variables: { d: documentId } } }));
      track(ws);
      if (++ready === count) setTimeout(() => console.log('ready'), 300);
    });
  } else {
    ws.once('open', () => {
      track(ws);
      if (++ready === count) console.log('ready');
    });
  }
}

process.stdin.once('data', () => {
  process.stdout.write(JSON.stringify(Object.fromEntries(got)) + '\n', () => {
    for (const s of sockets) s.terminate();
    process.exit(0);
  });
});
