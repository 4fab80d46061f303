import { request as httpRequest } from 'node:http';
import { createClient } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { newDocument, newUser, subscribeChanges, wsClient } from '../helpers/client.js';
import { useServer } from '../helpers/fixture.js';

const env = useServer();

describe('HTTP and WebSocket transport', () => {
  it('serves GraphiQL on GET /graphql, and health and readiness', async () => {
    const page = await fetch(env.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/graphiql/i);
    const base = env.url.replace('/graphql', '');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', postgres: true });
  });

  it('answers CORS only for allowed origins', async () => {
    const ask = (origin: string) => fetch(env.url, { method: 'POST', headers: { origin, 'content-type': 'application/json' }, body: '{"query":"{ me { id } }"}' });
    expect((await ask('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    const own = `http://127.0.0.1:${env.server.port}`;
    expect((await ask(own)).headers.get('access-control-allow-origin')).toBe(own);
  });

  it('refuses a WebSocket upgrade from a foreign Origin', async () => {
    const ws = new WebSocket(env.wsUrl, 'graphql-transport-ws', { origin: 'https://evil.example' });
    const outcome = await new Promise<string>((resolve) => {
      ws.once('open', () => resolve('open'));
      ws.once('unexpected-response', (_req, res) => resolve(`http ${res.statusCode}`));
      ws.once('error', () => resolve('error'));
    });
    expect(outcome).not.toBe('open');
    ws.terminate();
  });

  it('takes WebSocket credentials from connectionParams, and refuses a bad token with UNAUTHENTICATED', async () => {
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, 'ws');
    const capitalised = createClient({ url: env.wsUrl, webSocketImpl: WebSocket, connectionParams: { Authorization: `Bearer ${token}` }, retryAttempts: 0 });
    const ok = subscribeChanges(capitalised, doc.id, []);
    await ok.until(() => ok.events.length > 0);
    ok.dispose();
    await capitalised.dispose();
    // The { headers: { Authorization } } shape that several clients (and GraphiQL's loader) send.
    const nested = createClient({ url: env.wsUrl, webSocketImpl: WebSocket, connectionParams: { headers: { Authorization: `Bearer ${token}` } }, retryAttempts: 0 });
    const ok2 = subscribeChanges(nested, doc.id, []);
    await ok2.until(() => ok2.events.length > 0);
    ok2.dispose();
    await nested.dispose();

    // GraphiQL's loader sends its header editor's headers in the subscribe message's extensions.
    const graphiqlLike = createClient({ url: env.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
    const viaExtensions = await new Promise<any>((resolve, reject) => {
      const dispose = graphiqlLike.subscribe(
        { query: 'subscription($d: ID!) { documentChanges(documentId: $d, since: []) { version } }', variables: { d: doc.id }, extensions: { headers: { Authorization: `Bearer ${token}` } } },
        { next: (r) => { dispose(); resolve(r); }, error: reject, complete: () => undefined },
      );
    });
    expect(viaExtensions.errors).toBeUndefined();
    expect(viaExtensions.data.documentChanges.version).toEqual(doc.version);
    await graphiqlLike.dispose();

    const bad = wsClient(env.wsUrl, 'forged');
    const refused = subscribeChanges(bad, doc.id, []);
    await refused.until(() => refused.errors.length > 0 || refused.done);
    expect(refused.events).toHaveLength(0);
    expect(JSON.stringify(refused.errors)).toContain('UNAUTHENTICATED');
    await bad.dispose();

    const none = wsClient(env.wsUrl);
    const anonymous = subscribeChanges(none, doc.id, []);
    await anonymous.until(() => anonymous.errors.length > 0 || anonymous.done);
    expect(JSON.stringify(anonymous.errors)).toContain('UNAUTHENTICATED');
    await none.dispose();
  });

  it('answers GraphQL over HTTP by the spec: media types, status codes, request errors', async () => {
    const post = (body: string, accept?: string) =>
      fetch(env.url, { method: 'POST', headers: { 'content-type': 'application/json', ...(accept ? { accept } : {}) }, body });
    const ok = await post('{"query":"{ me { id } }"}', 'application/graphql-response+json');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/application\/graphql-response\+json/);
    expect(await ok.json()).toEqual({ data: { me: null } });
    const invalid = await post('{"query":"{ nope }"}', 'application/graphql-response+json');
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as any).errors[0].extensions.code).toBe('BAD_USER_INPUT');
    const legacy = await post('{"query":"{ nope }"}', 'application/json');
    expect(legacy.status).toBe(200);
    expect(legacy.headers.get('content-type')).toMatch(/^application\/json/);
    for (const body of ['not json', '[{"query":"{ me { id } }"}]', '{"query": 42}', '{"query":"subscription { documentChanges(documentId: \\"x\\") { version } }"}']) {
      const r = await post(body);
      expect(r.status, body).toBe(400);
      expect(((await r.json()) as any).errors[0].extensions.code, body).toBe('BAD_USER_INPUT');
    }
  });

  it('refuses an oversized request body with PAYLOAD_TOO_LARGE in a GraphQL error body', async () => {
    const body = JSON.stringify({ query: '{ me { id } }', variables: { pad: 'x'.repeat(2 * 1024 * 1024) } });
    const res = await fetch(env.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(res.status).toBe(413);
    const json = (await res.json()) as { errors: { extensions: { code: string } }[] };
    expect(json.errors[0]!.extensions.code).toBe('PAYLOAD_TOO_LARGE');
    // The same without a Content-Length (a chunked body) is cut off as it arrives.
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const u = new URL(env.url);
      const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      for (let i = 0; i < 40; i++) req.write(body.slice(i * 60_000, (i + 1) * 60_000));
      req.end();
    });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
  });
});
