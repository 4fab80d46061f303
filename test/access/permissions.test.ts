import { OpLog } from 'diamond-types-node';
import { describe, expect, it } from 'vitest';
import { REDIS_URL } from '../helpers/env.js';
import { useServer } from '../helpers/fixture.js';
import { codeOf, gql, newApiKey, newDocument, newUser, ok, share, type GqlResponse, wsClient } from '../helpers/client.js';

/**
 * Every caller against every operation that touches a document, asserting the exact outcome:
 * anonymous → UNAUTHENTICATED; no access → NOT_FOUND (a query answers null); a role below the one
 * the operation needs → FORBIDDEN; an API key without the scope → FORBIDDEN (keys here belong to
 * the owner, so only their scopes limit them).
 */

type Role = 'VIEWER' | 'EDITOR' | 'OWNER';
type Scope = 'read' | 'write' | 'share';
type Caller = 'anonymous' | 'stranger' | 'viewer' | 'editor' | 'owner' | 'key:read' | 'key:write' | 'key:share';
const CALLERS: Caller[] = ['anonymous', 'stranger', 'viewer', 'editor', 'owner', 'key:read', 'key:write', 'key:share'];

/** A fresh document per case: owner, viewer and editor on it, a saved version, a share link. */
interface Case {
  id: string;
  ownerAgent: string;
  editorAgent: string;
  version: unknown;
  versionId: string;
  linkId: string;
  viewerId: string;
  editorId: string;
}

interface Op {
  name: string;
  role: Role;
  scope: Scope;
  /** Prepare the document (e.g. put it in the trash) before the call. */
  before?: (c: Case) => Promise<void>;
  /** Makes the call; returns the code it failed with, 'null' for a query that answered null, or 'OK'. */
  call: (c: Case, token: string | undefined, caller: Caller) => Promise<string>;
}

const s = useServer({ redisUrl: REDIS_URL });
const RANK: Record<Role, number> = { VIEWER: 1, EDITOR: 2, OWNER: 3 };
const SCOPES: Record<Scope, Scope[]> = { read: ['read', 'write', 'share'], write: ['write'], share: ['share'] };

function expected(op: Op, caller: Caller, hiddenQuery: boolean): string {
  if (caller === 'anonymous') return 'UNAUTHENTICATED';
  if (caller.startsWith('key:')) return SCOPES[op.scope].includes(caller.slice(4) as Scope) ? 'OK' : 'FORBIDDEN';
  if (caller === 'stranger') return hiddenQuery ? 'null' : 'NOT_FOUND';
  const role: Role = caller === 'viewer' ? 'VIEWER' : caller === 'editor' ? 'EDITOR' : 'OWNER';
  return RANK[role] >= RANK[op.role] ? 'OK' : 'FORBIDDEN';
}

const outcome = (r: GqlResponse, field: string): string => {
  if (r.errors?.length) return String(codeOf(r));
  return r.data?.[field] === null ? 'null' : 'OK';
};

/** A query on the document: the root answers null to whoever cannot see it; a refused field answers its code. */
const docQuery = (name: string, selection: string, role: Role = 'VIEWER', scope: Scope = 'read'): Op => ({
  name,
  role,
  scope,
  call: async (c, token) => {
    const usesVersion = selection.includes('$v');
    const r = await gql(s.url, `query($d: ID!${usesVersion ? ', $v: Version!' : ''}) { document(id: $d) { id ${selection} } }`, { d: c.id, ...(usesVersion ? { v: c.version } : {}) }, token);
    return outcome(r, 'document');
  },
});

const mutation = (name: string, role: Role, scope: Scope, query: string, vars: (c: Case, caller: Caller) => Record<string, unknown>, before?: Op['before']): Op => ({
  name,
  role,
  scope,
  before,
  call: async (c, token, caller) => outcome(await gql(s.url, query, vars(c, caller), token), name),
});

/** A valid diamond-types patch: one insert by `agent`, concurrent with everything (its parent is the empty document). */
function patchBy(agent: string): string {
  const log = new OpLog(agent);
  log.ins(0, 'p');
  const bytes = log.getPatchSince(new Uint32Array());
  log.free();
  return Buffer.from(bytes).toString('base64');
}

/** The agent a caller would edit with: their own when they have one (keys act as the owner). */
const agentOf = (c: Case, caller: Caller) => (caller === 'editor' ? c.editorAgent : c.ownerAgent);
let emailOfNewcomer = '';

const subscription = (name: string, query: string): Op => ({
  name,
  role: 'VIEWER',
  scope: 'read',
  call: (c, token) =>
    new Promise((resolve) => {
      const client = wsClient(s.wsUrl, token);
      const dispose = client.subscribe(
        { query, variables: { d: c.id } },
        {
          next: (r) => {
            resolve(r.errors?.length ? String(r.errors[0]!.extensions?.code) : 'OK');
            dispose();
            void client.dispose();
          },
          error: (e) => {
            resolve(String((e as { extensions?: { code?: string } }[])[0]?.extensions?.code ?? e));
            void client.dispose();
          },
          complete: () => undefined,
        },
      );
    }),
});

const rest = (name: string, role: Role, scope: Scope, method: string, path: (c: Case) => string, body?: (c: Case) => object, before?: Op['before']): Op => ({
  name,
  role,
  scope,
  before,
  call: async (c, token) => {
    const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) };
    const res = await fetch(s.url.replace('/graphql', '') + path(c), { method, headers, body: body ? JSON.stringify(body(c)) : undefined });
    const answer = (await res.json()) as { errors?: { extensions: { code: string } }[] } | null;
    const code = answer && 'errors' in answer && answer.errors ? answer.errors[0]!.extensions.code : answer === null ? 'null' : 'OK';
    const status: Record<string, number> = { OK: 200, null: 200, UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404 };
    expect(res.status, `${name} ${code}`).toBe(status[code]);
    return code;
  },
});

const trash = async (c: Case) => {
  await ok(s.url, 'mutation($d: ID!) { deleteDocument(documentId: $d) { id } }', { d: c.id }, tokens.owner);
};

const OPS: Op[] = [
  docQuery('document', 'title content version'),
  docQuery('document.collaborators', 'collaborators { email role }'),
  docQuery('document.versions', 'versions { edges { node { name } } }'),
  docQuery('document.contentAt', 'contentAt(version: $v)'),
  docQuery('document.diff', 'diff(from: []) { hunks { lines } }'),
  docQuery('document.operations', 'operations { edges { node { agent } } }'),
  docQuery('document.shareLinks', 'shareLinks { id }', 'OWNER', 'share'),
  docQuery('document.auditLog', 'auditLog { edges { node { action } } }', 'OWNER', 'read'),
  mutation('updateDocument', 'EDITOR', 'write', 'mutation($i: UpdateDocumentInput!) { updateDocument(input: $i) { title } }', (c) => ({ i: { documentId: c.id, title: 'renamed' } })),
  mutation('joinDocument', 'EDITOR', 'write', 'mutation($d: ID!) { joinDocument(documentId: $d) { agent } }', (c) => ({ d: c.id })),
  mutation('editDocument', 'EDITOR', 'write', 'mutation($i: EditDocumentInput!) { editDocument(input: $i) { version } }', (c, caller) => ({
    i: { documentId: c.id, agent: agentOf(c, caller), seq: 0, parents: c.version, ops: [{ insert: { pos: 0, text: 'x' } }] },
  })),
  mutation('applyPatch', 'EDITOR', 'write', 'mutation($i: ApplyPatchInput!) { applyPatch(input: $i) { version } }', (c, caller) => ({
    i: { documentId: c.id, patch: patchBy(agentOf(c, caller)) },
  })),
  mutation('updatePresence', 'EDITOR', 'write', 'mutation($d: ID!, $a: String!) { updatePresence(documentId: $d, agent: $a, cursor: { anchor: 1, head: 2 }) { agent } }', (c, caller) => ({
    d: c.id,
    a: agentOf(c, caller),
  })),
  mutation('createVersion', 'EDITOR', 'write', 'mutation($d: ID!) { createVersion(documentId: $d, name: "v2") { id } }', (c) => ({ d: c.id })),
  mutation('renameVersion', 'EDITOR', 'write', 'mutation($v: ID!) { renameVersion(id: $v, name: "v1b") { id } }', (c) => ({ v: c.versionId })),
  mutation('deleteVersion', 'EDITOR', 'write', 'mutation($v: ID!) { deleteVersion(id: $v) }', (c) => ({ v: c.versionId })),
  mutation('restoreVersion', 'EDITOR', 'write', 'mutation($d: ID!) { restoreVersion(documentId: $d, version: []) { version } }', (c) => ({ d: c.id })),
  mutation('forkDocument', 'VIEWER', 'write', 'mutation($d: ID!) { forkDocument(documentId: $d, title: "fork") { document { id } } }', (c) => ({ d: c.id })),
  mutation('deleteDocument', 'OWNER', 'write', 'mutation($d: ID!) { deleteDocument(documentId: $d) { id } }', (c) => ({ d: c.id })),
  mutation('restoreDocument', 'OWNER', 'write', 'mutation($d: ID!) { restoreDocument(documentId: $d) { id } }', (c) => ({ d: c.id }), trash),
  mutation('shareDocument', 'OWNER', 'share', 'mutation($d: ID!, $e: String!) { shareDocument(documentId: $d, email: $e, role: VIEWER) { role } }', (c) => ({ d: c.id, e: emailOfNewcomer })),
  mutation('updateShare', 'OWNER', 'share', 'mutation($d: ID!, $u: ID!) { updateShare(documentId: $d, userId: $u, role: EDITOR) { role } }', (c) => ({ d: c.id, u: c.viewerId })),
  mutation('revokeShare', 'OWNER', 'share', 'mutation($d: ID!, $u: ID!) { revokeShare(documentId: $d, userId: $u) }', (c) => ({ d: c.id, u: c.viewerId })),
  mutation('transferOwnership', 'OWNER', 'share', 'mutation($d: ID!, $u: ID!) { transferOwnership(documentId: $d, userId: $u) { role } }', (c) => ({ d: c.id, u: c.editorId })),
  mutation('createShareLink', 'OWNER', 'share', 'mutation($d: ID!) { createShareLink(documentId: $d, role: VIEWER) { token } }', (c) => ({ d: c.id })),
  mutation('revokeShareLink', 'OWNER', 'share', 'mutation($d: ID!, $l: ID!) { revokeShareLink(documentId: $d, linkId: $l) }', (c) => ({ d: c.id, l: c.linkId })),
  subscription('documentChanges', 'subscription($d: ID!) { documentChanges(documentId: $d, since: []) { version } }'),
  subscription('documentPresence', 'subscription($d: ID!) { documentPresence(documentId: $d) { full } }'),
  rest('GET /rest/documents/:id', 'VIEWER', 'read', 'GET', (c) => `/rest/documents/${c.id}`),
  rest('DELETE /rest/documents/:id', 'OWNER', 'write', 'DELETE', (c) => `/rest/documents/${c.id}`),
  rest('POST /rest/documents/:id/restore', 'OWNER', 'write', 'POST', (c) => `/rest/documents/${c.id}/restore`, undefined, trash),
  rest('POST /rest/update-document', 'EDITOR', 'write', 'POST', () => '/rest/update-document', (c) => ({ input: { documentId: c.id, title: 'via REST' } })),
  rest('POST /rest/join-document', 'EDITOR', 'write', 'POST', () => '/rest/join-document', (c) => ({ documentId: c.id })),
  rest('POST /rest/share-document', 'OWNER', 'share', 'POST', () => '/rest/share-document', (c) => ({ documentId: c.id, email: emailOfNewcomer, role: 'VIEWER' })),
];

const tokens = {} as Record<Caller, string | undefined>;
let viewerId = '';
let editorId = '';

async function newCase(): Promise<Case> {
  const doc = await newDocument(s.url, tokens.owner!, 'hello');
  for (const [who, role] of [['viewer', 'VIEWER'], ['editor', 'EDITOR']] as const) {
    await share(s.url, tokens.owner!, doc.id, emails[who], role);
  }
  const editorJoin = await ok(s.url, 'mutation($d: ID!) { joinDocument(documentId: $d) { agent } }', { d: doc.id }, tokens.editor);
  const v = await ok(s.url, 'mutation($d: ID!) { createVersion(documentId: $d, name: "v1") { id } }', { d: doc.id }, tokens.owner);
  const link = await ok(s.url, 'mutation($d: ID!) { createShareLink(documentId: $d, role: EDITOR) { link { id } } }', { d: doc.id }, tokens.owner);
  return {
    id: doc.id,
    ownerAgent: doc.agent,
    editorAgent: editorJoin.joinDocument.agent,
    version: doc.version,
    versionId: v.createVersion.id,
    linkId: link.createShareLink.link.id,
    viewerId,
    editorId,
  };
}

const emails = {} as Record<'viewer' | 'editor', string>;

describe('permission matrix', () => {
  it('sets up an owner, an editor, a viewer, a stranger and the owner\'s API keys', async () => {
    const owner = await newUser(s.url, 'owner');
    const editor = await newUser(s.url, 'editor');
    const viewer = await newUser(s.url, 'viewer');
    const stranger = await newUser(s.url, 'stranger');
    emailOfNewcomer = (await newUser(s.url, 'newcomer')).email;
    Object.assign(tokens, { anonymous: undefined, owner: owner.token, editor: editor.token, viewer: viewer.token, stranger: stranger.token });
    tokens['key:read'] = (await newApiKey(s.url, owner.token, ['DOCUMENTS_READ'])).secret;
    tokens['key:write'] = (await newApiKey(s.url, owner.token, ['DOCUMENTS_WRITE'])).secret;
    tokens['key:share'] = (await newApiKey(s.url, owner.token, ['DOCUMENTS_SHARE'])).secret;
    emails.viewer = viewer.email;
    emails.editor = editor.email;
    viewerId = viewer.id;
    editorId = editor.id;
  });

  for (const op of OPS) {
    it(`${op.name} (needs ${op.role}, ${op.scope} scope)`, async () => {
      const got: Record<string, string> = {};
      const want: Record<string, string> = {};
      // A query on a hidden document answers null, except a refused field, which the root hides too.
      const hiddenQuery = op.name.startsWith('document') && !op.name.startsWith('documentChanges') && !op.name.startsWith('documentPresence');
      for (const caller of CALLERS) {
        const c = await newCase();
        await op.before?.(c);
        got[caller] = await op.call(c, tokens[caller], caller);
        want[caller] = expected(op, caller, hiddenQuery);
      }
      expect(got).toEqual(want);
    });
  }

  it('a document id that is not a UUID, or belongs to nobody, is NOT_FOUND for every mutation, never an internal error', async () => {
    for (const id of ['not-a-uuid', '00000000-0000-4000-8000-000000000000', "'; DROP TABLE documents; --"]) {
      const r = await gql(s.url, 'mutation($d: ID!) { deleteDocument(documentId: $d) { id } }', { d: id }, tokens.owner);
      expect(codeOf(r)).toBe('NOT_FOUND');
      const q = await gql(s.url, 'query($d: ID!) { document(id: $d) { id } }', { d: id }, tokens.owner);
      expect(q.data?.document).toBeNull();
    }
  });
});
