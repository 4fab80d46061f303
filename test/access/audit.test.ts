import { describe, expect, it } from 'vitest';
import { codeOf, edit, gql, join, newDocument, newUser, ok, share } from '../helpers/client.js';
import { useServer } from '../helpers/fixture.js';

const s = useServer({ runWorker: true, collab: { autoVersionQuietMs: 200, autoVersionMaxOps: 1000 } });

const AUDIT = 'query($d: ID!, $after: String) { document(id: $d) { auditLog(first: 50, after: $after) { edges { node { action actorId targetUserId ip details } } pageInfo { hasNextPage endCursor } } } }';

describe('audit log', () => {
  it("records who did what to a document, newest first; edit batches are summarised per author; only the owner reads it", async () => {
    const owner = await newUser(s.url, 'owner');
    const editor = await newUser(s.url, 'editor');
    const doc = await newDocument(s.url, owner.token, 'hi');
    await ok(s.url, 'mutation($i: UpdateDocumentInput!) { updateDocument(input: $i) { title } }', { i: { documentId: doc.id, title: 'Plans' } }, owner.token);
    await share(s.url, owner.token, doc.id, editor.email);
    const mine = await join(s.url, editor.token, doc.id);
    let parents: unknown = mine.version;
    for (let i = 0; i < 20; i++) {
      const r = await edit(s.url, editor.token, { documentId: doc.id, agent: mine.agent, seq: i, parents, ops: [{ insert: { pos: 2 + i, text: '.' } }] });
      parents = r.data.editDocument.version;
    }
    const r = await edit(s.url, owner.token, { documentId: doc.id, agent: doc.agent, seq: 0, parents, ops: [{ insert: { pos: 0, text: '>' } }] });
    expect(r.errors).toBeUndefined();
    // The burst closes after 200 ms of quiet (document__autoversion): one edit record per author.
    let actions: { action: string; actorId: string; targetUserId: string | null; ip: string | null; details: string }[] = [];
    for (let i = 0; i < 100 && !actions.some((a) => a.action === 'document.edited'); i++) {
      await new Promise((res) => setTimeout(res, 100));
      actions = (await ok(s.url, AUDIT, { d: doc.id }, owner.token)).document.auditLog.edges.map((e: { node: unknown }) => e.node);
    }
    const edited = actions.filter((a) => a.action === 'document.edited');
    expect(edited.map((a) => [a.actorId, JSON.parse(a.details).operations]).sort()).toEqual([[editor.id, 20], [owner.id, 2]].sort());
    const rest = actions.filter((a) => a.action !== 'document.edited').map((a) => [a.action, a.actorId]);
    expect(rest).toEqual([
      ['document.joined', editor.id],
      ['share.granted', owner.id],
      ['document.renamed', owner.id],
      ['document.joined', owner.id],
      ['document.created', owner.id],
    ]);
    expect(actions.find((a) => a.action === 'share.granted')!.targetUserId).toBe(editor.id);
    await ok(s.url, 'mutation($d: ID!) { deleteDocument(documentId: $d) { id } }', { d: doc.id }, owner.token);
    await ok(s.url, 'mutation($d: ID!) { restoreDocument(documentId: $d) { id } }', { d: doc.id }, owner.token);
    const latest = (await ok(s.url, AUDIT, { d: doc.id }, owner.token)).document.auditLog.edges.map((e: { node: { action: string } }) => e.node.action);
    expect(latest.slice(0, 2)).toEqual(['document.restored', 'document.deleted']);
    expect(actions.every((a) => a.ip === '127.0.0.1' || a.ip === '::1' || a.ip === '::ffff:127.0.0.1' || a.action === 'document.edited')).toBe(true);
    expect(codeOf(await gql(s.url, AUDIT, { d: doc.id }, editor.token))).toBe('FORBIDDEN');
    // Relay pages, newest first, without overlap.
    const first = (await ok(s.url, 'query($d: ID!) { document(id: $d) { auditLog(first: 3) { edges { node { id } } pageInfo { hasNextPage endCursor } } } }', { d: doc.id }, owner.token)).document.auditLog;
    const next = (await ok(s.url, 'query($d: ID!, $a: String) { document(id: $d) { auditLog(first: 50, after: $a) { edges { node { id } } } } }', { d: doc.id, a: first.pageInfo.endCursor }, owner.token)).document.auditLog;
    expect(first.pageInfo.hasNextPage).toBe(true);
    const ids = [...first.edges, ...next.edges].map((e: { node: { id: string } }) => Number(e.node.id));
    expect(ids).toEqual([...ids].sort((x, y) => y - x));
    expect(new Set(ids).size).toBe(actions.length + 2);
  });

  it("me.auditLog lists the caller's own sign-ins, failures and key events", async () => {
    const u = await newUser(s.url, 'me');
    await gql(s.url, 'mutation($i: LogInInput!) { logIn(input: $i) { token } }', { i: { email: u.email, password: 'wrong password' } });
    await ok(s.url, 'mutation($i: LogInInput!) { logIn(input: $i) { token } }', { i: { email: u.email, password: 'correct horse battery' } });
    const key = await ok(s.url, 'mutation { createApiKey(name: "ci", scopes: [DOCUMENTS_READ]) { secret apiKey { id } } }', {}, u.token);
    await ok(s.url, '{ me { id } }', {}, key.createApiKey.secret);
    await ok(s.url, 'mutation($k: ID!) { revokeApiKey(id: $k) }', { k: key.createApiKey.apiKey.id }, u.token);
    const log = await ok(s.url, '{ me { auditLog { edges { node { action apiKeyId } } } } }', {}, u.token);
    expect(log.me.auditLog.edges.map((e: { node: { action: string } }) => e.node.action)).toEqual([
      'api_key.revoked',
      'api_key.used',
      'api_key.created',
      'session.signed_in',
      'session.sign_in_failed',
      'user.signed_up',
    ]);
    expect(log.me.auditLog.edges[1].node.apiKeyId).toBe(key.createApiKey.apiKey.id);
  });
});
