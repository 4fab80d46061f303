import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface GqlResponse<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; extensions?: { code?: string; [k: string]: unknown } }[];
}

/** POSTs one GraphQL operation over real HTTP. */
export async function gql<T = any>(url: string, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<GqlResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as GqlResponse<T>;
  return { ...body, status: res.status };
}

/** Like gql, but throws unless the operation succeeded. */
export async function ok<T = any>(url: string, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<T> {
  const r = await gql<T>(url, query, variables, token);
  if (r.errors?.length || !r.data) throw new Error(`GraphQL error: ${JSON.stringify(r.errors)}`);
  return r.data;
}

/** The code of the first error of a response. */
export const codeOf = (r: GqlResponse) => r.errors?.[0]?.extensions?.code;

/** The codes bad input may be refused with (CONTRACT.md): never INTERNAL_SERVER_ERROR. */
export const REFUSAL_CODES = ['BAD_USER_INPUT', 'UNKNOWN_VERSION', 'FORBIDDEN', 'SEQ_GAP', 'PAYLOAD_TOO_LARGE'];

let n = 0;
/** Signs up a new user; returns its token and id. */
export async function newUser(url: string, name = 'user'): Promise<{ token: string; id: string; email: string }> {
  const email = `${name}-${Date.now()}-${n++}@example.com`;
  const d = await ok(url, 'mutation($i: SignUpInput!) { signUp(input: $i) { token user { id } } }', { i: { email, password: 'correct horse battery', displayName: name } });
  return { token: d.signUp.token, id: d.signUp.user.id, email };
}

/** Creates an API key for a signed-in user; returns its secret and id. */
export async function newApiKey(url: string, token: string, scopes: string[] = ['DOCUMENTS_WRITE', 'DOCUMENTS_SHARE'], name = 'key'): Promise<{ secret: string; id: string }> {
  const d = await ok(url, 'mutation($n: String!, $s: [ApiScope!]!) { createApiKey(name: $n, scopes: $s) { secret apiKey { id } } }', { n: name, s: scopes }, token);
  return { secret: d.createApiKey.secret, id: d.createApiKey.apiKey.id };
}

/** Gives the user with `email` a role on a document (the owner's `token`). */
export async function share(url: string, token: string, documentId: string, email: string, role: 'OWNER' | 'EDITOR' | 'VIEWER' = 'EDITOR'): Promise<void> {
  await ok(url, 'mutation($d: ID!, $e: String!, $r: ShareRole!) { shareDocument(documentId: $d, email: $e, role: $r) { role } }', { d: documentId, e: email, r: role }, token);
}

/** Creates a document and joins it: its id, an agent and the version to edit from. */
export async function newDocument(url: string, token: string, content = '', title = 'doc'): Promise<{ id: string; agent: string; version: [string, number][] }> {
  const c = await ok(url, 'mutation($i: CreateDocumentInput!) { createDocument(input: $i) { document { id } } }', { i: { title, content } }, token);
  const id = c.createDocument.document.id;
  const j = await join(url, token, id);
  return { id, agent: j.agent, version: j.version };
}

/** Two users on one new document: `alice` owns it, `bob` is an editor who has joined it (`b`). */
export async function twoEditors(url: string, content: string) {
  const alice = await newUser(url, 'alice');
  const bob = await newUser(url, 'bob');
  const doc = await newDocument(url, alice.token, content);
  await share(url, alice.token, doc.id, bob.email);
  const b = await join(url, bob.token, doc.id);
  return { alice, bob, doc, b };
}

export async function join(url: string, token: string, id: string): Promise<{ agent: string; content: string; version: [string, number][] }> {
  const d = await ok(url, 'mutation($d: ID!) { joinDocument(documentId: $d) { agent content version } }', { d: id }, token);
  return d.joinDocument;
}

export const EDIT = 'mutation($i: EditDocumentInput!) { editDocument(input: $i) { version } }';
export const PATCH = 'mutation($i: ApplyPatchInput!) { applyPatch(input: $i) { version } }';
export const CONTENT = 'query($d: ID!) { document(id: $d) { content length version } }';

export type WireOp = { insert: { pos: number; text: string } } | { delete: { pos: number; len: number } };

export function edit(url: string, token: string, input: { documentId: string; agent: string; seq: number; parents: unknown; ops: WireOp[] }) {
  return gql(url, EDIT, { i: input }, token);
}

export async function content(url: string, token: string, id: string): Promise<{ content: string; length: number; version: [string, number][] }> {
  return (await ok(url, CONTENT, { d: id }, token)).document;
}

/** A graphql-ws client over a real WebSocket. */
export function wsClient(wsUrl: string, token?: string, opts: { retryAttempts?: number } = {}): Client {
  return createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: opts.retryAttempts ?? 0,
    lazy: true,
  });
}

export interface Change {
  documentId: string;
  version: [string, number][];
  ops: ({ __typename: 'InsertOp'; pos: number; text: string } | { __typename: 'DeleteOp'; pos: number; len: number })[];
  patch: string;
  agents: string[];
}

export const CHANGES = `subscription($d: ID!, $since: Version) { documentChanges(documentId: $d, since: $since) {
  documentId version patch agents ops { __typename ... on InsertOp { pos text } ... on DeleteOp { pos len } } } }`;

/** Subscribes to documentChanges; collects events and errors until disposed. */
export function subscribeChanges(client: Client, documentId: string, since?: unknown) {
  const events: Change[] = [];
  const errors: any[] = [];
  let done = false;
  let waiters: (() => void)[] = [];
  const wake = () => {
    const w = waiters;
    waiters = [];
    w.forEach((f) => f());
  };
  const dispose = client.subscribe<{ documentChanges: Change }>(
    { query: CHANGES, variables: { d: documentId, ...(since !== undefined ? { since } : {}) } },
    {
      next: (r) => {
        if (r.errors) errors.push(...r.errors);
        if (r.data?.documentChanges) events.push(r.data.documentChanges);
        wake();
      },
      error: (e) => {
        errors.push(e);
        done = true;
        wake();
      },
      complete: () => {
        done = true;
        wake();
      },
    },
  );
  return {
    events,
    errors,
    get done() {
      return done;
    },
    dispose,
    /** Waits until `pred` holds (checked after each message), or fails after `ms`. */
    async until(pred: () => boolean, ms = 10_000): Promise<void> {
      const deadline = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > deadline) throw new Error(`timed out; ${events.length} events, errors ${JSON.stringify(errors)}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
    },
  };
}

/** Applies a stream of events' ops to a starting text (positions in code points). */
export function replay(start: string, changes: Change[]): string {
  let chars = Array.from(start);
  for (const c of changes) {
    for (const op of c.ops) {
      if (op.__typename === 'InsertOp') {
        const text = Array.from(op.text);
        // (Spreading a long text into splice's arguments would overflow the stack.)
        if (text.length < 10_000) chars.splice(op.pos, 0, ...text);
        else chars = chars.slice(0, op.pos).concat(text, chars.slice(op.pos));
      }
      else chars.splice(op.pos, op.len);
    }
  }
  return chars.join('');
}

export interface PresenceParticipant {
  agent: string;
  userId: string;
  displayName: string;
  colour: string;
  cursor: { anchor: number; head: number } | null;
  version: [string, number][];
  status: 'ACTIVE' | 'IDLE';
}

const PRESENCE = `subscription($d: ID!, $agent: String) { documentPresence(documentId: $d, agent: $agent) {
  documentId full left participants { agent userId displayName colour cursor { anchor head } version status lastActiveAt } } }`;

export const UPDATE_PRESENCE = `mutation($d: ID!, $agent: String!, $cursor: CursorInput, $version: Version, $status: PresenceStatus) {
  updatePresence(documentId: $d, agent: $agent, cursor: $cursor, version: $version, status: $status) { agent cursor { anchor head } version status } }`;

/** Subscribes to documentPresence; keeps who is present (by agent) as events arrive. */
export function subscribePresence(client: Client, documentId: string, agent?: string) {
  const present = new Map<string, PresenceParticipant>();
  const events: { participants: PresenceParticipant[]; left: string[]; full: boolean }[] = [];
  const errors: unknown[] = [];
  const dispose = client.subscribe<{ documentPresence: { participants: PresenceParticipant[]; left: string[]; full: boolean } }>(
    { query: PRESENCE, variables: { d: documentId, ...(agent ? { agent } : {}) } },
    {
      next: (r) => {
        if (r.errors) errors.push(...r.errors);
        const e = r.data?.documentPresence;
        if (!e) return;
        events.push(e);
        if (e.full) present.clear(); // everyone present is listed: anyone else has left
        for (const a of e.left) present.delete(a);
        for (const p of e.participants) present.set(p.agent, p);
      },
      error: (e) => errors.push(e),
      complete: () => undefined,
    },
  );
  return {
    present,
    events,
    errors,
    dispose,
    async until(pred: () => boolean, ms = 10_000): Promise<void> {
      const deadline = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > deadline) throw new Error(`timed out; present ${JSON.stringify([...present.values()])}, errors ${JSON.stringify(errors)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}
