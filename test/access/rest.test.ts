import { describe, expect, it } from 'vitest';
import { newApiKey, newUser } from '../helpers/client.js';
import { useServer } from '../helpers/fixture.js';

const s = useServer();
const rest = (path: string) => s.url.replace('/graphql', '') + '/rest' + path;

async function call(method: string, path: string, key?: string, body?: object) {
  const res = await fetch(rest(path), {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as any };
}

describe('REST (SOFA)', () => {
  it('serves an OpenAPI document of the document routes, and Swagger UI', async () => {
    const { status, body } = await call('GET', '/openapi.json');
    expect(status).toBe(200);
    expect(Object.keys(body.paths)).toEqual(expect.arrayContaining(['/documents', '/documents/{id}', '/documents/{documentId}', '/documents/{documentId}/restore', '/update-document']));
    const docs = await fetch(rest('/docs'));
    expect([docs.status, docs.headers.get('content-type')]).toEqual([200, expect.stringContaining('text/html')]);
  });

  it('document CRUD with an API key, as the README shows it; errors carry codes and statuses', async () => {
    const u = await newUser(s.url);
    const key = (await newApiKey(s.url, u.token, ['DOCUMENTS_WRITE'])).secret;
    const created = await call('POST', '/documents', key, { input: { title: 'Notes', content: 'hello' } });
    expect(created.status).toBe(201);
    const id = created.body.document.id;
    expect(created.body.document).toMatchObject({ title: 'Notes', content: 'hello', myRole: 'OWNER' });
    expect((await call('GET', `/documents/${id}`, key)).body).toMatchObject({ id, content: 'hello' });
    const list = await call('GET', '/documents?first=10', key);
    expect(list.body.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([id]);
    expect((await call('POST', '/update-document', key, { input: { documentId: id, title: 'Renamed' } })).body.title).toBe('Renamed');
    expect((await call('DELETE', `/documents/${id}`, key)).body.deletedAt).not.toBeNull();
    // In the trash: not found over REST, like any document the caller cannot see.
    const trashed = await call('GET', `/documents/${id}`, key);
    expect([trashed.status, trashed.body.errors[0].extensions.code]).toEqual([404, 'NOT_FOUND']);
    const nobody = await call('GET', '/documents/00000000-0000-4000-8000-000000000000', key);
    expect([nobody.status, nobody.body]).toEqual([404, trashed.body]);
    expect((await call('POST', `/documents/${id}/restore`, key)).body).toMatchObject({ id, title: 'Renamed', deletedAt: null });

    const bad = await call('POST', '/documents', key, { input: { title: 'x\ud800' } });
    expect([bad.status, bad.body.errors[0].extensions.code]).toEqual([400, 'BAD_USER_INPUT']);
    const anon = await call('GET', `/documents/${id}`);
    expect([anon.status, anon.body.errors[0].extensions.code]).toEqual([401, 'UNAUTHENTICATED']);
    const readOnly = (await newApiKey(s.url, u.token, ['DOCUMENTS_READ'])).secret;
    const refused = await call('DELETE', `/documents/${id}`, readOnly);
    expect([refused.status, refused.body.errors[0].extensions.code]).toEqual([403, 'FORBIDDEN']);
    expect((await call('GET', `/documents/${id}`, readOnly)).body.title).toBe('Renamed');
  });
});
