import { randomUUID } from 'node:crypto';
import pg from 'pg';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freshDatabase } from '../helpers/db.js';
import { REDIS_URL } from '../helpers/env.js';
import { useServer } from '../helpers/fixture.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { codeOf, content, edit, gql, newApiKey, newDocument, newUser, ok, subscribeChanges, wsClient } from '../helpers/client.js';

/** Each hostile request gets its error, and afterwards the document and the accounts are as they were. */

const base = (url: string) => url.replace('/graphql', '');
const PASSWORD = 'correct horse battery';

async function rawStatus(url: string, init: RequestInit): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(url, init);
  return { status: res.status, body: await res.text(), headers: res.headers };
}

describe('hostile input on one server', () => {
  const s = useServer({ rateLimits: { authPerAccount: 10, authPerIp: 1000 } });
  let owner: Awaited<ReturnType<typeof newUser>>;
  let doc: Awaited<ReturnType<typeof newDocument>>;
  const intact = async () => expect((await content(s.url, owner.token, doc.id)).content).toBe('hello');

  beforeAll(async () => {
    owner = await newUser(s.url, 'owner');
    doc = await newDocument(s.url, owner.token, 'hello');
  });

  it('SQL-like and script payloads in titles and emails are stored and returned verbatim, or refused as invalid emails; nothing else changes', async () => {
    const payloads = ["'; DROP TABLE documents; --", '<script>alert(1)</script>', "Robert'); DELETE FROM users; --", '${7*7} {{7*7}} %s %n'];
    for (const title of payloads) {
      const created = await ok(s.url, 'mutation($i: CreateDocumentInput!) { createDocument(input: $i) { document { id title } } }', { i: { title } }, owner.token);
      expect(created.createDocument.document.title).toBe(title);
      const found = await ok(s.url, 'query($q: String!) { documents(search: $q) { edges { node { title } } } }', { q: title }, owner.token);
      expect(found.documents.edges.map((e: { node: { title: string } }) => e.node.title)).toEqual([title]);
    }
    // % and _ in a search are literal characters, not wildcards.
    expect((await ok(s.url, '{ documents(search: "%") { edges { node { id } } } }', {}, owner.token)).documents.edges).toHaveLength(1);
    for (const email of ["x' OR '1'='1", '<script>@x', "a@b.c'; DROP TABLE users; --"]) {
      const r = await gql(s.url, 'mutation($i: SignUpInput!) { signUp(input: $i) { token } }', { i: { email, password: PASSWORD, displayName: 'x' } });
      expect(codeOf(r), email).toBe('BAD_USER_INPUT');
      const l = await gql(s.url, 'mutation($i: LogInInput!) { logIn(input: $i) { token } }', { i: { email, password: PASSWORD } });
      expect(codeOf(l), email).toBe('UNAUTHENTICATED');
    }
    const xss = await ok(s.url, 'mutation($i: SignUpInput!) { signUp(input: $i) { token user { displayName } } }', {
      i: { email: `xss-${randomUUID()}@example.com`, password: PASSWORD, displayName: '<img src=x onerror=alert(1)>' },
    });
    expect(xss.signUp.user.displayName).toBe('<img src=x onerror=alert(1)>');
    await intact();
  });

  it('1,000 aliases and a selection 50 deep are refused before execution (BAD_USER_INPUT)', async () => {
    const aliases = Array.from({ length: 1000 }, (_, i) => `a${i}: me { id }`).join(' ');
    expect(codeOf(await gql(s.url, `{ ${aliases} }`, {}, owner.token))).toBe('BAD_USER_INPUT');
    const aliasedEdits = Array.from({ length: 1000 }, (_, i) => `e${i}: updateDocument(input: { documentId: "${doc.id}", title: "t${i}" }) { title }`).join(' ');
    expect(codeOf(await gql(s.url, `mutation { ${aliasedEdits} }`, {}, owner.token))).toBe('BAD_USER_INPUT');
    // A valid selection 50 levels deep (inline fragments on Query nest without end).
    const deep = `${'... on Query { '.repeat(49)}me { id }${' }'.repeat(49)}`;
    const refused = await gql(s.url, `{ ${deep} }`, {}, owner.token);
    expect(codeOf(refused)).toBe('BAD_USER_INPUT');
    expect(refused.errors![0]!.message).toMatch(/depth|cost/i);
    const shallow = `${'... on Query { '.repeat(5)}me { id }${' }'.repeat(5)}`;
    expect((await ok(s.url, `{ ${shallow} }`, {}, owner.token)).me.id).toBe(owner.id);
    expect((await ok(s.url, 'query($d: ID!) { document(id: $d) { title } }', { d: doc.id }, owner.token)).document.title).toBe('doc');
    await intact();
  });

  it('a 5 MB body is refused with PAYLOAD_TOO_LARGE (413) whatever its path', async () => {
    const big = JSON.stringify({ query: 'mutation($i: EditDocumentInput!) { editDocument(input: $i) { version } }', variables: { i: { documentId: doc.id, agent: doc.agent, seq: 0, parents: doc.version, ops: [{ insert: { pos: 0, text: 'x'.repeat(5 * 1024 * 1024) } }] } } });
    for (const path of ['/graphql', '/rest/documents']) {
      const r = await rawStatus(base(s.url) + path, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${owner.token}` }, body: big });
      expect(r.status).toBe(413);
      expect(JSON.parse(r.body).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    }
    await intact();
  });

  it('a 50 MB WebSocket frame closes that socket (1009) and nothing else: other subscribers keep their stream, nothing is printed', async () => {
    // The server runs in this process: what it would print to the console is seen here.
    const printed = vi.spyOn(console, 'error');
    const watcher = wsClient(s.wsUrl, owner.token);
    const sub = subscribeChanges(watcher, doc.id, []);
    await sub.until(() => sub.events.length > 0);
    const socket = new WebSocket(s.wsUrl, 'graphql-transport-ws');
    await new Promise((r) => socket.once('open', r));
    const closed = new Promise<number>((r) => socket.once('close', (code) => r(code)));
    socket.send(Buffer.alloc(50 * 1024 * 1024, 0x61));
    expect(await closed).toBe(1009);
    expect(printed).not.toHaveBeenCalled();
    printed.mockRestore();
    const r = await edit(s.url, owner.token, { documentId: doc.id, agent: doc.agent, seq: 0, parents: doc.version, ops: [{ insert: { pos: 5, text: '!' } }] });
    expect(r.errors).toBeUndefined();
    await sub.until(() => sub.events.length > 1);
    expect(sub.errors).toEqual([]);
    sub.dispose();
    await watcher.dispose();
    // Put the text back for the other tests.
    const v = r.data.editDocument.version;
    await edit(s.url, owner.token, { documentId: doc.id, agent: doc.agent, seq: 1, parents: v, ops: [{ delete: { pos: 5, len: 1 } }] });
    await intact();
  });

  it('a foreign Origin cannot open a WebSocket (403) nor read HTTP responses (no CORS grant); the server\'s own origin can', async () => {
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(s.wsUrl, 'graphql-transport-ws', { headers: { origin: 'https://evil.example' } });
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => resolve(101));
    });
    expect(refused).toBe(403);
    const own = new URL(s.url).host;
    const allowed = await new Promise<number>((resolve) => {
      const ws = new WebSocket(s.wsUrl, 'graphql-transport-ws', { headers: { origin: `http://${own}` } });
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => {
        ws.close();
        resolve(101);
      });
    });
    expect(allowed).toBe(101);
    const cors = await rawStatus(s.url, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://evil.example' }, body: JSON.stringify({ query: '{ me { id } }' }) });
    expect(cors.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('a request a browser could send cross-site without a preflight (GET, text/plain POST) is refused without the CSRF header, and changes nothing', async () => {
    const mutation = `mutation { updateDocument(input: { documentId: "${doc.id}", title: "csrf" }) { title } }`;
    const get = await rawStatus(`${s.url}?query=${encodeURIComponent(mutation)}`, { headers: { authorization: `Bearer ${owner.token}` } });
    expect(get.status).toBe(403);
    const form = await rawStatus(s.url, { method: 'POST', headers: { 'content-type': 'text/plain', authorization: `Bearer ${owner.token}` }, body: JSON.stringify({ query: mutation }) });
    expect(form.status).toBe(403);
    const query = await rawStatus(`${s.url}?query=${encodeURIComponent('{ me { id } }')}`, { headers: { authorization: `Bearer ${owner.token}`, 'x-graphql-yoga-csrf': '1' } });
    expect(query.status).toBe(200);
    expect((await ok(s.url, 'query($d: ID!) { document(id: $d) { title } }', { d: doc.id }, owner.token)).document.title).toBe('doc');
  });

  it('100 failed logins in a row: the account is rate limited after 10 (RATE_LIMITED with retryAfterMs), even for the right password; each failure is audited without the password', async () => {
    const victim = await newUser(s.url, 'victim');
    const codes: string[] = [];
    let retryAfterMs = 0;
    for (let i = 0; i < 100; i++) {
      const r = await gql(s.url, 'mutation($i: LogInInput!) { logIn(input: $i) { token } }', { i: { email: victim.email, password: `guess-${i}` } });
      codes.push(String(codeOf(r)));
      if (codeOf(r) === 'RATE_LIMITED') retryAfterMs = Number(r.errors![0]!.extensions!.retryAfterMs);
    }
    expect(codes.slice(0, 10)).toEqual(Array(10).fill('UNAUTHENTICATED'));
    expect(new Set(codes.slice(10))).toEqual(new Set(['RATE_LIMITED']));
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(codeOf(await gql(s.url, 'mutation($i: LogInInput!) { logIn(input: $i) { token } }', { i: { email: victim.email, password: PASSWORD } }))).toBe('RATE_LIMITED');
    // The victim's own session still works, and another account is not limited.
    expect((await ok(s.url, '{ me { email } }', {}, victim.token)).me.email).toBe(victim.email);
    const other = await newUser(s.url, 'other');
    expect((await gql(s.url, 'mutation($i: LogInInput!) { logIn(input: $i) { token } }', { i: { email: other.email, password: PASSWORD } })).errors).toBeUndefined();
    const audit = await ok(s.url, '{ me { auditLog(first: 100) { edges { node { action details } } } } }', {}, victim.token);
    const failures = audit.me.auditLog.edges.filter((e: { node: { action: string } }) => e.node.action === 'session.sign_in_failed');
    expect(failures).toHaveLength(10);
    expect(JSON.stringify(audit)).not.toContain('guess-');
  });

  it("guessing other users' document ids reveals nothing: a real id and a random one answer the same", async () => {
    const guesser = await newUser(s.url, 'guesser');
    const answers = [];
    for (const id of [doc.id, randomUUID(), randomUUID()]) {
      answers.push((await gql(s.url, 'query($d: ID!) { document(id: $d) { id content } }', { d: id }, guesser.token)).data);
      const e = await gql(s.url, 'mutation($d: ID!) { joinDocument(documentId: $d) { agent } }', { d: id }, guesser.token);
      answers.push({ code: codeOf(e), message: e.errors?.[0]?.message });
      const sub = await new Promise<string>((resolve) => {
        const c = wsClient(s.wsUrl, guesser.token);
        c.subscribe({ query: 'subscription($d: ID!) { documentChanges(documentId: $d) { version } }', variables: { d: id } }, {
          next: (r) => resolve(String(r.errors?.[0]?.extensions?.code)),
          error: (err) => resolve(String((err as { extensions?: { code?: string } }[])[0]?.extensions?.code)),
          complete: () => void c.dispose(),
        });
      });
      answers.push(sub);
    }
    expect(answers.slice(0, 3)).toEqual([{ document: null }, { code: 'NOT_FOUND', message: 'document not found' }, 'NOT_FOUND']);
    expect(answers.slice(3, 6)).toEqual(answers.slice(0, 3));
    expect(answers.slice(6, 9)).toEqual(answers.slice(0, 3));
    await intact();
  });

  it('field suggestions are hidden from anonymous callers and shown to signed-in ones; introspection is on by default', async () => {
    const anon = await gql(s.url, '{ documnts { edges { cursor } } }');
    expect(codeOf(anon)).toBe('BAD_USER_INPUT');
    expect(anon.errors![0]!.message).not.toMatch(/Did you mean/);
    const signedIn = await gql(s.url, '{ documnts { edges { cursor } } }', {}, owner.token);
    expect(signedIn.errors![0]!.message).toMatch(/Did you mean "documents"/);
    expect((await ok(s.url, '{ __schema { queryType { name } } }')).__schema.queryType.name).toBe('Query');
  });
});

describe('limits that need their own configuration', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let a: TestServer;
  let b: TestServer;
  let prod: TestServer;
  let shortSessions: TestServer;
  let shortRedisSessions: TestServer;

  beforeAll(async () => {
    db = await freshDatabase();
    const limits = { rateLimits: { editsPerUser: 6, connectionsPerIp: 4 }, limits: { maxSubscriptionsPerConnection: 2 } };
    // Two instances sharing Redis share their counts; rate-limit keys are per user, so fresh users keep tests apart.
    a = await startServer(db.url, { redisUrl: REDIS_URL, ...limits });
    b = await startServer(db.url, { redisUrl: REDIS_URL, ...limits });
    prod = await startServer(db.url, { nodeEnv: 'production' });
    shortSessions = await startServer(db.url, { sessionTtlSeconds: 1 });
    shortRedisSessions = await startServer(db.url, { sessionTtlSeconds: 1, redisUrl: REDIS_URL });
  });

  afterAll(async () => {
    for (const s of [a, b, prod, shortSessions, shortRedisSessions]) await s?.stop();
    await db?.drop();
  });

  it('edit rate limits hold across instances sharing Redis', async () => {
    const u = await newUser(a.url);
    const d = await newDocument(a.url, u.token, ''); // one join
    let version: unknown = d.version;
    const codes: string[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await edit((i % 2 ? b : a).url, u.token, { documentId: d.id, agent: d.agent, seq: i, parents: version, ops: [{ insert: { pos: i, text: 'x' } }] });
      codes.push(r.errors ? String(codeOf(r)) : 'OK');
      if (!r.errors) version = r.data.editDocument.version;
    }
    expect(codes).toEqual(['OK', 'OK', 'OK', 'OK', 'OK', 'RATE_LIMITED', 'RATE_LIMITED']);
    expect((await content(b.url, u.token, d.id)).content).toBe('xxxxx');
  });

  it('a connection may hold only so many subscriptions; WebSocket connection attempts are limited per address (429)', async () => {
    const u = await newUser(a.url);
    const d = await newDocument(a.url, u.token, 'x');
    const client = wsClient(b.wsUrl, u.token);
    const subs = [0, 1, 2].map(() => subscribeChanges(client, d.id, []));
    await subs[0]!.until(() => subs[0]!.events.length > 0);
    await subs[1]!.until(() => subs[1]!.events.length > 0);
    await subs[2]!.until(() => subs[2]!.errors.length > 0);
    expect(subs[2]!.errors[0][0]?.extensions?.code ?? subs[2]!.errors[0].extensions?.code).toBe('RATE_LIMITED');
    await client.dispose();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      statuses.push(
        await new Promise<number>((resolve) => {
          const ws = new WebSocket(a.wsUrl, 'graphql-transport-ws');
          ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
          ws.once('open', () => {
            ws.close();
            resolve(101);
          });
        }),
      );
    }
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s === 101).length).toBeLessThanOrEqual(4);
  });

  it('in production, introspection is off by default and GraphiQL is not served', async () => {
    expect(codeOf(await gql(prod.url, '{ __schema { queryType { name } } }'))).toBe('BAD_USER_INPUT');
    const page = await rawStatus(prod.url, { headers: { accept: 'text/html' } });
    expect(page.body).not.toMatch(/graphiql/i);
    expect((await ok(prod.url, '{ me { id } }')).me).toBeNull();
  });

  for (const [name, server] of [['PostgreSQL', () => shortSessions], ['Redis', () => shortRedisSessions]] as const) {
    it(`a session (${name}) expires after its lifetime without use, and each use moves the expiry forward`, async () => {
      const s = server();
      const u = await newUser(s.url);
      const idle = await ok(s.url, 'mutation($i: LogInInput!) { logIn(input: $i) { token } }', { i: { email: u.email, password: PASSWORD } });
      // Used every 400 ms for 2 s: still valid, though that is twice its lifetime (the per-instance cache holds answers < 1 s here).
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, 400));
        expect((await ok(s.url, '{ me { id } }', {}, u.token)).me.id).toBe(u.id);
      }
      expect(codeOf(await gql(s.url, '{ me { id } }', {}, idle.logIn.token))).toBe('UNAUTHENTICATED');
      await new Promise((r) => setTimeout(r, 1500));
      expect(codeOf(await gql(s.url, '{ me { id } }', {}, u.token))).toBe('UNAUTHENTICATED');
    });
  }

  it('an API key stops working at its expiry; one cannot be made already expired', async () => {
    const u = await newUser(a.url);
    const create = 'mutation($at: DateTime) { createApiKey(name: "short", scopes: [DOCUMENTS_READ], expiresAt: $at) { secret apiKey { expiresAt } } }';
    expect(codeOf(await gql(a.url, create, { at: new Date(Date.now() - 1000).toISOString() }, u.token))).toBe('BAD_USER_INPUT');
    const key = (await ok(a.url, create, { at: new Date(Date.now() + 1500).toISOString() }, u.token)).createApiKey.secret;
    expect((await ok(b.url, '{ me { id } }', {}, key)).me.id).toBe(u.id);
    await new Promise((r) => setTimeout(r, 1700));
    for (const s of [a, b]) expect(codeOf(await gql(s.url, '{ me { id } }', {}, key))).toBe('UNAUTHENTICATED');
    const listed = await ok(a.url, '{ apiKeys { name prefix scopes lastUsedAt expiresAt } }', {}, u.token);
    expect(listed.apiKeys).toHaveLength(1);
    expect(listed.apiKeys[0]).toMatchObject({ name: 'short', prefix: key.slice(0, 12), scopes: ['DOCUMENTS_READ'] });
    expect(listed.apiKeys[0].lastUsedAt).not.toBeNull();
  });

  it('sessions are listed, revoked one by one or all at once; a password change signs out every other session', async () => {
    const u = await newUser(a.url);
    const second = await ok(a.url, 'mutation($i: LogInInput!) { logIn(input: $i) { token } }', { i: { email: u.email, password: PASSWORD } });
    const third = await ok(b.url, 'mutation($i: LogInInput!) { logIn(input: $i) { token } }', { i: { email: u.email, password: PASSWORD } });
    const listed = await ok(b.url, '{ me { sessions { id current } } }', {}, u.token);
    expect(listed.me.sessions).toHaveLength(3);
    expect(listed.me.sessions.filter((x: { current: boolean }) => x.current)).toHaveLength(1);
    const key = await newApiKey(a.url, u.token, ['DOCUMENTS_READ']);
    expect(codeOf(await gql(a.url, '{ me { sessions { id } } }', {}, key.secret))).toBe('FORBIDDEN');
    expect(codeOf(await gql(a.url, 'mutation { createApiKey(name: "k", scopes: [DOCUMENTS_READ]) { secret } }', {}, key.secret))).toBe('FORBIDDEN');
    const changed = await ok(a.url, 'mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }', { c: PASSWORD, n: 'a new long password' }, u.token);
    expect(changed.changePassword).toBe(2);
    for (const t of [second.logIn.token, third.logIn.token]) expect(codeOf(await gql(b.url, '{ me { id } }', {}, t))).toBe('UNAUTHENTICATED');
    expect((await ok(b.url, '{ me { id } }', {}, u.token)).me.id).toBe(u.id);
    expect((await ok(b.url, '{ me { id } }', {}, key.secret)).me.id).toBe(u.id); // keys are not sessions
    expect(codeOf(await gql(a.url, 'mutation($i: LogInInput!) { logIn(input: $i) { token } }', { i: { email: u.email, password: PASSWORD } }))).toBe('UNAUTHENTICATED');
    const n = await ok(a.url, 'mutation { logOutEverywhere }', {}, u.token);
    expect(n.logOutEverywhere).toBe(1);
    expect(codeOf(await gql(b.url, '{ me { id } }', {}, u.token))).toBe('UNAUTHENTICATED');
  });
});

describe('secrets stay secret', () => {
  const lines: string[] = [];
  const s = useServer({}, { write: (line: string) => void lines.push(line) });

  it('passwords, session tokens, API keys and share-link tokens never appear in logs, errors or the audit log', async () => {
    const password = `pw-${randomUUID()}`;
    const email = `secret-${randomUUID()}@example.com`;
    const signUp = await ok(s.url, 'mutation($i: SignUpInput!) { signUp(input: $i) { token } }', { i: { email, password, displayName: 'S' } });
    const token = signUp.signUp.token as string;
    const errors: unknown[] = [];
    errors.push(await gql(s.url, 'mutation($i: LogInInput!) { logIn(input: $i) { token } }', { i: { email, password: `${password}-wrong` } }));
    errors.push(await gql(s.url, 'mutation($i: SignUpInput!) { signUp(input: $i) { token } }', { i: { email, password, displayName: 'again' } }));
    errors.push(await gql(s.url, 'mutation($i: SignUpInput!) { signUp(input: $i) { token } }', { i: { email: 'bad', password, displayName: 'x' } }));
    const login = await ok(s.url, 'mutation($i: LogInInput!) { logIn(input: $i) { token } }', { i: { email, password } });
    const key = await newApiKey(s.url, token, ['DOCUMENTS_WRITE']);
    const d = await newDocument(s.url, key.secret, 'text');
    const link = await ok(s.url, 'mutation($d: ID!) { createShareLink(documentId: $d, role: VIEWER) { token } }', { d: d.id }, token);
    errors.push(await gql(s.url, 'mutation($t: String!) { redeemShareLink(token: $t) { id } }', { t: `${link.createShareLink.token}x` }, token));
    errors.push(await gql(s.url, '{ me { id } }', {}, `${token}x`));
    errors.push(await gql(s.url, 'mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }', { c: 'wrong-current', n: password }, token));
    await ok(s.url, 'mutation($k: ID!) { revokeApiKey(id: $k) }', { k: key.id }, token);
    errors.push(await gql(s.url, '{ me { id } }', {}, key.secret));
    await ok(s.url, 'mutation { logOut }', {}, login.logIn.token);

    const admin = new pg.Client({ connectionString: s.db.url });
    await admin.connect();
    const audit = JSON.stringify((await admin.query('SELECT * FROM audit_log')).rows);
    const stored = JSON.stringify([(await admin.query('SELECT * FROM sessions')).rows, (await admin.query('SELECT * FROM api_keys')).rows, (await admin.query('SELECT * FROM share_links')).rows]);
    await admin.end();
    expect(audit).toContain('session.sign_in_failed');
    expect(audit).toContain('api_key.created');
    expect(lines.length).toBeGreaterThan(0);
    const haystacks = { logs: lines.join('\n'), errors: JSON.stringify(errors), audit, stored };
    const secrets = { password, token, loginToken: login.logIn.token, apiKey: key.secret, shareLink: link.createShareLink.token };
    for (const [where, text] of Object.entries(haystacks)) {
      for (const [what, secret] of Object.entries(secrets)) expect(text.includes(secret), `${what} found in ${where}`).toBe(false);
    }
  });
});
