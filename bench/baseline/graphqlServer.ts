import { createServer } from 'node:http';
import { buildSchema, execute, parse, validate, type DocumentNode } from 'graphql';
import { editTypeDefs, noOpEdit } from './editSchema.js';
import { groupCommit } from './groupCommit.js';

/**
 * A throughput reference: graphql-js alone behind node:http, the least a GraphQL server can do per
 * request: read the body, JSON.parse, look up the parsed and validated document (cached by query
 * text, as Yoga's caches do), coerce the variables against the same input types, run the resolver,
 * and JSON.stringify the result. No auth, no CRDT. Given a DATABASE_URL, the resolver answers after
 * the edit's row commits (groupCommit.ts): the GraphQL mutation and the durable acknowledgement the
 * issue asks for, and nothing else; without one, it does nothing.
 * Usage: graphqlServer.ts [DATABASE_URL] (prints its port).
 */
const append = process.argv[2] ? await groupCommit(process.argv[2], 'bench_graphql_ops') : null;
const schema = buildSchema(editTypeDefs);
type Input = { documentId: string; agent: string; seq: number; ops: unknown };
const rootValue = {
  editDocument: ({ input }: { input: Input }) =>
    append ? append({ d: input.documentId, a: input.agent, s: input.seq, o: input.ops }).then(() => noOpEdit(input)) : noOpEdit(input),
};
const documents = new Map<string, DocumentNode>();

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { query: string; variables?: Record<string, unknown> };
    let document = documents.get(body.query);
    if (!document) {
      document = parse(body.query);
      if (validate(schema, document).length > 0) throw new Error('invalid query');
      documents.set(body.query, document);
    }
    void Promise.resolve(execute({ schema, document, rootValue, variableValues: body.variables })).then((result) => {
      const text = JSON.stringify(result);
      res.writeHead(200, { 'content-type': 'application/graphql-response+json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => console.log((server.address() as { port: number }).port));
