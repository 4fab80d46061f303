import { gqlOk, post } from './http.js';

export async function signUp(url: string, name = 'bench'): Promise<string> {
  const email = `${name}-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com`;
  return (await gqlOk(url, 'mutation($i: SignUpInput!) { signUp(input: $i) { token } }', { i: { email, password: 'bench password', displayName: name } })).signUp.token;
}

export async function createDoc(url: string, token: string, content = ''): Promise<string> {
  return (await gqlOk(url, 'mutation($i: CreateDocumentInput!) { createDocument(input: $i) { document { id } } }', { i: { title: 'bench', content } }, token)).createDocument.document.id;
}

export async function joinDoc(url: string, token: string, id: string): Promise<{ agent: string; version: unknown; content: string }> {
  return (await gqlOk(url, 'mutation($d: ID!) { joinDocument(documentId: $d) { agent version content } }', { d: id }, token)).joinDocument;
}

export const EDIT = 'mutation($i: EditDocumentInput!) { editDocument(input: $i) { version } }';

/**
 * A writer that types at the end of what it typed before, starting at `at`, each edit against the
 * version its last reply returned (which holds only its own edits: writers on one document are
 * always concurrent). `type` resolves with the acknowledgement latency in ms.
 */
export function typist(url: string, token: string, documentId: string, joined: { agent: string; version: unknown }, at: number) {
  let seq = 0;
  let parents = joined.version;
  return {
    async type(text: string): Promise<number> {
      const t0 = performance.now();
      const r = await post(url, JSON.stringify({ query: EDIT, variables: { i: { documentId, agent: joined.agent, seq, parents, ops: [{ insert: { pos: at + seq, text } }] } } }), token);
      if (r.json.errors) throw new Error(JSON.stringify(r.json.errors));
      parents = r.json.data.editDocument.version;
      seq += Array.from(text).length;
      return performance.now() - t0;
    },
  };
}
