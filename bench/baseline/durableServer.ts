import { createServer } from 'node:http';
import { groupCommit } from './groupCommit.js';

/**
 * A throughput reference: the bare node:http server plus the least a durable acknowledgement takes
 * (groupCommit.ts): the canned reply is sent after the body's edit commits. No GraphQL, no CRDT, no
 * access checks: what is left of cowrite's gap to the bare server once this is subtracted is cowrite's own.
 * Usage: durableServer.ts DATABASE_URL (prints its port).
 */
const append = await groupCommit(process.argv[2]!, 'bench_durable_ops');

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { variables?: { i?: { documentId?: string; agent?: string; seq?: number; ops?: unknown } } };
    const i = body.variables?.i ?? {};
    const reply = JSON.stringify({ data: { editDocument: { version: [[i.agent ?? 'a', i.seq ?? 0]] } } });
    void append({ d: i.documentId ?? '', a: i.agent ?? '', s: i.seq ?? 0, o: i.ops ?? [] }).then(() => {
      res.writeHead(200, { 'content-type': 'application/graphql-response+json; charset=utf-8', 'content-length': Buffer.byteLength(reply) });
      res.end(reply);
    });
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => console.log((server.address() as { port: number }).port));
