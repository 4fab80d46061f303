import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export function wsClient(url: string, token: string): Client {
  return createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: false });
}

export interface ChangeEvent {
  version: unknown;
  ops: { pos: number; text?: string; len?: number }[];
}

const CHANGES = 'subscription($d: ID!, $since: Version) { documentChanges(documentId: $d, since: $since) { version ops { ... on InsertOp { pos text } ... on DeleteOp { pos len } } } }';

/** Subscribes to documentChanges and calls onEvent for each event; resolves once the server acknowledged the subscription. */
export function subscribe(client: Client, documentId: string, onEvent: (e: ChangeEvent) => void, since?: unknown): () => void {
  return client.subscribe<{ documentChanges: ChangeEvent }>(
    { query: CHANGES, variables: { d: documentId, ...(since !== undefined ? { since } : {}) } },
    {
      next: (r) => {
        if (r.data) onEvent(r.data.documentChanges);
        else if (r.errors) console.error('subscription error', JSON.stringify(r.errors));
      },
      error: (e) => console.error('subscription failed', e),
      complete: () => undefined,
    },
  );
}
