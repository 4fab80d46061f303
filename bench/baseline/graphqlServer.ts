import { createServer } from 'node:http';
import { buildSchema, execute, parse, validate, type DocumentNode } from 'graphql';
import { editTypeDefs, noOpEdit } from './editSchema.js';

/**
 * A third throughput reference: graphql-js alone behind node:http, the least a GraphQL server can do
 * per request: read the body, JSON.parse, look up the parsed and validated document (cached by query
 * text, as Yoga's caches do), coerce the variables against the same input types, run a resolver that
 * does nothing, and JSON.stringify the result. No auth, no CRDT, no database.
 */
const schema = buildSchema(editTypeDefs);
const rootValue = { editDocument: ({ input }: { input: { agent: string; seq: number } }) => noOpEdit(input) };
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
    const result = execute({ schema, document, rootValue, variableValues: body.variables });
    const text = JSON.stringify(result);
    res.writeHead(200, { 'content-type': 'application/graphql-response+json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => console.log((server.address() as { port: number }).port));
