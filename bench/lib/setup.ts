import { gqlOk } from './http.js';

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
