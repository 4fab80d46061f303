import { beforeAll, describe, expect, it } from 'vitest';
import { useTwoInstances } from '../helpers/fixture.js';
import type { TestServer } from '../helpers/server.js';
import { codeOf, edit, gql, join, newApiKey, newDocument, newUser, ok, share, subscribeChanges, subscribePresence, wsClient } from '../helpers/client.js';

/**
 * Losing access ends a user's open subscriptions on the document within a second, on whichever
 * instance holds them, and refuses their next edit. Two instances share PostgreSQL and Redis.
 */

const instances = useTwoInstances();
let a: TestServer;
let b: TestServer;
beforeAll(() => {
  ({ a, b } = instances);
});


/** An owner's document shared with an editor who has joined it. */
async function sharedDocument(role: 'EDITOR' | 'VIEWER' = 'EDITOR') {
  const owner = await newUser(a.url, 'owner');
  const editor = await newUser(a.url, 'editor');
  const doc = await newDocument(a.url, owner.token, 'hello');
  await share(a.url, owner.token, doc.id, editor.email, role);
  return { owner, editor, doc };
}

/** Opens documentChanges and documentPresence for `token` on `server`, waiting until both have delivered their first event. */
async function watch(server: TestServer, token: string, documentId: string) {
  const client = wsClient(server.wsUrl, token);
  const changes = subscribeChanges(client, documentId, []);
  const presence = subscribePresence(client, documentId);
  await changes.until(() => changes.events.length > 0);
  const deadline = Date.now() + 5000;
  while (presence.events.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(presence.events.length).toBeGreaterThan(0);
  return { client, changes, presence };
}

/** Waits for both subscriptions to end with an error; returns its code and how long after `since` the later one came. */
async function ended(w: Awaited<ReturnType<typeof watch>>, since: number) {
  await w.changes.until(() => w.changes.errors.length > 0, 5000);
  const changesAt = Date.now();
  const deadline = Date.now() + 5000;
  while (w.presence.errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const presenceAt = Date.now();
  const code = (e: unknown) => (e as { extensions?: { code?: string } }).extensions?.code ?? (e as { extensions?: { code?: string } }[])[0]?.extensions?.code;
  return { changes: code(w.changes.errors[0]), presence: code(w.presence.errors[0]), ms: Math.max(changesAt, presenceAt) - since };
}

describe('live revocation', () => {
  it('revoking a share ends the collaborator\'s subscriptions (FORBIDDEN) within a second, on this instance and another; their next edit is refused', async () => {
    const { owner, editor, doc } = await sharedDocument();
    const me = await join(b.url, editor.token, doc.id);
    const onA = await watch(a, editor.token, doc.id);
    const onB = await watch(b, editor.token, doc.id);
    const t0 = Date.now();
    await ok(a.url, 'mutation($d: ID!, $u: ID!) { revokeShare(documentId: $d, userId: $u) }', { d: doc.id, u: editor.id }, owner.token);
    for (const w of [onA, onB]) {
      const r = await ended(w, t0);
      expect(r.changes).toBe('FORBIDDEN');
      expect(r.presence).toBe('FORBIDDEN');
      expect(r.ms).toBeLessThan(1000);
      await w.client.dispose();
    }
    // Refused at once on both instances: neither trusts a cached role any more.
    for (const server of [a, b]) {
      const r = await edit(server.url, editor.token, { documentId: doc.id, agent: me.agent, seq: 0, parents: me.version, ops: [{ insert: { pos: 0, text: 'x' } }] });
      expect(codeOf(r)).toBe('NOT_FOUND');
    }
    expect((await gql(b.url, 'query($d: ID!) { document(id: $d) { id } }', { d: doc.id }, editor.token)).data?.document).toBeNull();
    // The owner's document is untouched.
    expect((await ok(a.url, 'query($d: ID!) { document(id: $d) { content } }', { d: doc.id }, owner.token)).document.content).toBe('hello');
  });

  it('lowering an editor to viewer ends their subscriptions (FORBIDDEN, role VIEWER); they may subscribe again as a viewer but not edit', async () => {
    const { owner, editor, doc } = await sharedDocument();
    const me = await join(a.url, editor.token, doc.id);
    const w = await watch(b, editor.token, doc.id);
    const t0 = Date.now();
    await ok(a.url, 'mutation($d: ID!, $u: ID!) { updateShare(documentId: $d, userId: $u, role: VIEWER) { role } }', { d: doc.id, u: editor.id }, owner.token);
    const r = await ended(w, t0);
    expect(r).toMatchObject({ changes: 'FORBIDDEN', presence: 'FORBIDDEN' });
    expect(r.ms).toBeLessThan(1000);
    expect(w.changes.errors[0].extensions.role).toBe('VIEWER');
    await w.client.dispose();
    const again = await watch(b, editor.token, doc.id);
    expect(again.changes.errors).toEqual([]);
    await again.client.dispose();
    const refused = await edit(b.url, editor.token, { documentId: doc.id, agent: me.agent, seq: 0, parents: me.version, ops: [{ insert: { pos: 0, text: 'x' } }] });
    expect(codeOf(refused)).toBe('FORBIDDEN');
  });

  it('deleting the document ends everyone\'s subscriptions with NOT_FOUND; restoring it brings it back', async () => {
    const { owner, editor, doc } = await sharedDocument();
    const w = await watch(b, editor.token, doc.id);
    const ownerWatch = await watch(a, owner.token, doc.id);
    const t0 = Date.now();
    await ok(a.url, 'mutation($d: ID!) { deleteDocument(documentId: $d) { id } }', { d: doc.id }, owner.token);
    for (const x of [w, ownerWatch]) {
      const r = await ended(x, t0);
      expect(r).toMatchObject({ changes: 'NOT_FOUND', presence: 'NOT_FOUND' });
      expect(r.ms).toBeLessThan(1000);
      await x.client.dispose();
    }
    const trash = await ok(b.url, '{ documents(filter: TRASH) { edges { node { id deletedAt } } } }', {}, owner.token);
    expect(trash.documents.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([doc.id]);
    expect((await ok(b.url, '{ documents { edges { node { id } } } }', {}, editor.token)).documents.edges).toEqual([]);
    await ok(b.url, 'mutation($d: ID!) { restoreDocument(documentId: $d) { id } }', { d: doc.id }, owner.token);
    expect((await ok(a.url, 'query($d: ID!) { document(id: $d) { content myRole } }', { d: doc.id }, editor.token)).document).toEqual({ content: 'hello', myRole: 'EDITOR' });
  });

  it('logging out ends that session\'s subscriptions on every instance; its token is refused everywhere at once', async () => {
    const { editor, doc } = await sharedDocument();
    const w = await watch(b, editor.token, doc.id);
    const t0 = Date.now();
    await ok(a.url, 'mutation { logOut }', {}, editor.token);
    const r = await ended(w, t0);
    expect(r).toMatchObject({ changes: 'FORBIDDEN', presence: 'FORBIDDEN' });
    expect(r.ms).toBeLessThan(1000);
    await w.client.dispose();
    for (const server of [a, b]) expect(codeOf(await gql(server.url, '{ me { id } }', {}, editor.token))).toBe('UNAUTHENTICATED');
  });

  it('revoking an API key ends its subscriptions and refuses it on every instance; the user\'s session is unaffected', async () => {
    const { editor, doc } = await sharedDocument();
    const key = await newApiKey(a.url, editor.token, ['DOCUMENTS_READ']);
    const w = await watch(b, key.secret, doc.id);
    const sessionWatch = await watch(b, editor.token, doc.id);
    const t0 = Date.now();
    await ok(a.url, 'mutation($k: ID!) { revokeApiKey(id: $k) }', { k: key.id }, editor.token);
    const r = await ended(w, t0);
    expect(r).toMatchObject({ changes: 'FORBIDDEN', presence: 'FORBIDDEN' });
    expect(r.ms).toBeLessThan(1000);
    await w.client.dispose();
    for (const server of [a, b]) expect(codeOf(await gql(server.url, 'query($d: ID!) { document(id: $d) { id } }', { d: doc.id }, key.secret))).toBe('UNAUTHENTICATED');
    await new Promise((r) => setTimeout(r, 200));
    expect(sessionWatch.changes.errors).toEqual([]);
    expect(sessionWatch.presence.errors).toEqual([]);
    await sessionWatch.client.dispose();
  });

  it('a share link grants its role until revoked; access it granted stays until the share is revoked', async () => {
    const { owner, doc } = await sharedDocument();
    const guest = await newUser(a.url, 'guest');
    const link = await ok(a.url, 'mutation($d: ID!) { createShareLink(documentId: $d, role: VIEWER) { token link { id } } }', { d: doc.id }, owner.token);
    const redeemed = await ok(b.url, 'mutation($t: String!) { redeemShareLink(token: $t) { id myRole content } }', { t: link.createShareLink.token }, guest.token);
    expect(redeemed.redeemShareLink).toEqual({ id: doc.id, myRole: 'VIEWER', content: 'hello' });
    await ok(a.url, 'mutation($d: ID!, $l: ID!) { revokeShareLink(documentId: $d, linkId: $l) }', { d: doc.id, l: link.createShareLink.link.id }, owner.token);
    const late = await newUser(a.url, 'late');
    expect(codeOf(await gql(a.url, 'mutation($t: String!) { redeemShareLink(token: $t) { id } }', { t: link.createShareLink.token }, late.token))).toBe('NOT_FOUND');
    expect((await ok(a.url, 'query($d: ID!) { document(id: $d) { myRole } }', { d: doc.id }, guest.token)).document.myRole).toBe('VIEWER');
    const collaborators = await ok(a.url, 'query($d: ID!) { document(id: $d) { collaborators { email role } } }', { d: doc.id }, owner.token);
    expect(collaborators.document.collaborators.map((c: { role: string }) => c.role)).toEqual(['OWNER', 'EDITOR', 'VIEWER']);
  });

  it('transferring ownership makes the collaborator the owner and the old owner an editor', async () => {
    const { owner, editor, doc } = await sharedDocument();
    await ok(a.url, 'mutation($d: ID!, $u: ID!) { transferOwnership(documentId: $d, userId: $u) { role } }', { d: doc.id, u: editor.id }, owner.token);
    expect((await ok(b.url, 'query($d: ID!) { document(id: $d) { myRole } }', { d: doc.id }, editor.token)).document.myRole).toBe('OWNER');
    expect((await ok(b.url, 'query($d: ID!) { document(id: $d) { myRole } }', { d: doc.id }, owner.token)).document.myRole).toBe('EDITOR');
    expect(codeOf(await gql(a.url, 'mutation($d: ID!) { deleteDocument(documentId: $d) { id } }', { d: doc.id }, owner.token))).toBe('FORBIDDEN');
    const owned = await ok(a.url, '{ documents(filter: OWNED) { edges { node { id } } } }', {}, editor.token);
    expect(owned.documents.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([doc.id]);
    const shared = await ok(a.url, '{ documents(filter: SHARED_WITH_ME) { edges { node { id } } } }', {}, owner.token);
    expect(shared.documents.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([doc.id]);
  });
});
