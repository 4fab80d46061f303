import { describe, expect, it } from 'vitest';
import { content, edit, newDocument, newUser, ok } from '../helpers/client.js';
import { useServer } from '../helpers/fixture.js';

const s = useServer();
const download = (id: string, query: string, token?: string) =>
  fetch(`${s.url.replace('/graphql', '')}/documents/${id}/download${query}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('export', () => {
  it('exports the text now or at any version, as TEXT or JSON, and downloads it as a file', async () => {
    const owner = await newUser(s.url);
    const doc = await newDocument(s.url, owner.token, 'first 😀');
    await ok(s.url, 'mutation($i: UpdateDocumentInput!) { updateDocument(input: $i) { title } }', { i: { documentId: doc.id, title: 'My notes' } }, owner.token);
    const then = (await content(s.url, owner.token, doc.id)).version;
    const r = await edit(s.url, owner.token, { documentId: doc.id, agent: doc.agent, seq: 0, parents: then, ops: [{ insert: { pos: 7, text: ' second' } }] });
    const now = r.data.editDocument.version;

    const q = 'query($d: ID!, $v: Version) { document(id: $d) { text: export(format: TEXT) old: export(format: TEXT, version: $v) json: export(format: JSON, version: $v) } }';
    const e = (await ok(s.url, q, { d: doc.id, v: then }, owner.token)).document;
    expect(e.text).toBe('first 😀 second');
    expect(e.old).toBe('first 😀');
    expect(JSON.parse(e.json)).toMatchObject({ id: doc.id, title: 'My notes', version: then, length: 7, content: 'first 😀' });

    const text = await download(doc.id, '', owner.token);
    expect(text.status).toBe(200);
    expect(text.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(text.headers.get('content-disposition')).toBe('attachment; filename="My notes.txt"');
    expect(await text.text()).toBe('first 😀 second');
    const old = await download(doc.id, `?format=json&version=${encodeURIComponent(JSON.stringify(then))}`, owner.token);
    expect(JSON.parse(await old.text())).toMatchObject({ content: 'first 😀', version: then });
    expect(now).not.toEqual(then);
  });

  it('a download answers like the API: 401 without a token, 404 for a document you cannot see, 409 for an unknown version, 400 for a bad one', async () => {
    const owner = await newUser(s.url);
    const stranger = await newUser(s.url);
    const doc = await newDocument(s.url, owner.token, 'secret');
    const statusOf = async (res: Response) => [res.status, ((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code];
    expect(await statusOf(await download(doc.id, ''))).toEqual([401, 'UNAUTHENTICATED']);
    expect(await statusOf(await download(doc.id, '', stranger.token))).toEqual([404, 'NOT_FOUND']);
    expect(await statusOf(await download(doc.id, `?version=${encodeURIComponent('[["nobody",5]]')}`, owner.token))).toEqual([409, 'UNKNOWN_VERSION']);
    expect(await statusOf(await download(doc.id, '?version=not-json', owner.token))).toEqual([400, 'BAD_USER_INPUT']);
    expect(await statusOf(await download(doc.id, '?format=pdf', owner.token))).toEqual([400, 'BAD_USER_INPUT']);
  });
});
