import { createServer } from 'node:http';

/** The throughput baseline: a bare node:http server that reads each POST body and answers a canned reply of the same shape. */
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { variables?: { i?: { agent?: string; seq?: number } } };
    const i = body.variables?.i ?? {};
    const text = JSON.stringify({ data: { editDocument: { version: [[i.agent ?? 'a', i.seq ?? 0]] } } });
    res.writeHead(200, { 'content-type': 'application/graphql-response+json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => console.log((server.address() as { port: number }).port));
