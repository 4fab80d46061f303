import { createServer } from 'node:http';
import { createSchema, createYoga } from 'graphql-yoga';

/**
 * A second throughput reference: GraphQL Yoga alone, with the same operation shape and a resolver
 * that does nothing (no auth, no CRDT, no database). It shows Yoga's own ceiling on this machine.
 */
const yoga = createYoga({
  logging: false,
  schema: createSchema({
    typeDefs: /* GraphQL */ `
      scalar Version
      type Query { ok: Boolean }
      input InsertOpInput { pos: Int! text: String! }
      input DeleteOpInput { pos: Int! len: Int! }
      input TextOpInput @oneOf { insert: InsertOpInput delete: DeleteOpInput }
      input EditDocumentInput { documentId: ID! agent: String! seq: Int! parents: Version! ops: [TextOpInput!]! }
      type EditDocumentPayload { version: Version! }
      type Mutation { editDocument(input: EditDocumentInput!): EditDocumentPayload! }
    `,
    resolvers: { Mutation: { editDocument: (_: unknown, { input }: { input: { agent: string; seq: number } }) => ({ version: [[input.agent, input.seq]] }) } },
  }),
});
const server = createServer(yoga);
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => console.log((server.address() as { port: number }).port));
