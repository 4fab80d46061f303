import { createServer } from 'node:http';
import { createSchema, createYoga } from 'graphql-yoga';
import { editTypeDefs, noOpEdit } from './editSchema.js';

/**
 * A second throughput reference: GraphQL Yoga alone, with the same operation shape and a resolver
 * that does nothing (no auth, no CRDT, no database). It shows Yoga's own ceiling on this machine.
 */
const yoga = createYoga({
  logging: false,
  schema: createSchema({
    typeDefs: editTypeDefs,
    resolvers: { Mutation: { editDocument: (_: unknown, { input }: { input: { agent: string; seq: number } }) => noOpEdit(input) } },
  }),
});
const server = createServer(yoga);
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => console.log((server.address() as { port: number }).port));
