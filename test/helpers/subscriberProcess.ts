/**
 * A documentChanges subscriber in a process of its own, so a test can stop it (kill -STOP) like a
 * client that stopped reading. Prints one JSON line per event ({ version, ops }) and one for the end
 * ({ error } or { complete: true }), then exits. Environment: WS_URL, TOKEN, DOCUMENT_ID, SINCE (JSON).
 */
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const client = createClient({
  url: process.env.WS_URL!,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${process.env.TOKEN}` },
  retryAttempts: 0,
});
const line = (v: unknown, then?: () => void) => process.stdout.write(`${JSON.stringify(v)}\n`, then);
// Exits once everything written has reached the pipe.
const exit = () => process.exit(0);
client.subscribe<{ documentChanges: { version: unknown; ops: unknown[] } }>(
  {
    query: `subscription($d: ID!, $since: Version) { documentChanges(documentId: $d, since: $since) {
      version ops { __typename ... on InsertOp { pos text } ... on DeleteOp { pos len } } } }`,
    variables: { d: process.env.DOCUMENT_ID, since: JSON.parse(process.env.SINCE ?? 'null') },
  },
  {
    next: (r) => (r.errors ? line({ error: r.errors }) : line(r.data!.documentChanges)),
    error: (e) => {
      line({ error: e instanceof Error ? e.message : (e as { code?: number }).code ?? String(e) }, exit);
    },
    complete: () => {
      line({ complete: true }, exit);
    },
  },
);
