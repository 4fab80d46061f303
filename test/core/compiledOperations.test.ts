import { buildSchema, execute, parse, type ExecutionArgs } from 'graphql';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { executor } from '../../src/graphql/jit.js';
import { codeOf, content, gql, newDocument, newUser, type GqlResponse } from '../helpers/client.js';
import { useServer } from '../helpers/fixture.js';
import { scrape } from '../helpers/metrics.js';

// An operation runs on graphql-js until it has been executed GRAPHQL_JIT_AFTER times, then compiled
// (graphql-jit). What a client sees must not change at that point.

const compilations = async (url: string) => (await scrape(url)).samples.get('cowrite_graphql_compilations_total{result="compiled"}') ?? 0;

const READ = `query Read($d: ID!, $first: Int) {
  document(id: $d) { title content length version myRole operations(first: $first) { edges { node { kind agent seqStart seqEnd inserted deleted serverOrder } } pageInfo { hasNextPage } } }
  me { id email }
}`;
const EDIT = 'mutation Edit($i: EditDocumentInput!) { editDocument(input: $i) { version document { length } } }';

describe('operations compiled once hot', () => {
  const env = useServer({ graphqlJitAfter: 3 });

  it('answer exactly as before they were compiled, and are compiled once', async () => {
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, 'héllo 😀');
    const before = await compilations(env.url);
    const answers: GqlResponse[] = [];
    for (let i = 0; i < 6; i++) {
      answers.push(await gql(env.url, READ, { d: doc.id, first: 2 }, token));
      // Compiled on its third execution, and only then.
      expect(await compilations(env.url)).toBe(before + (i >= 2 ? 1 : 0));
    }
    expect(answers[0]!.errors).toBeUndefined();
    expect(answers[0]!.data.document.content).toBe('héllo 😀');
    for (const a of answers) expect(a).toEqual(answers[0]);
    // What resolvers refuse too: a document the caller cannot see is null, an anonymous caller is told to sign in.
    const stranger = await newUser(env.url, 'stranger');
    const hidden = await gql(env.url, READ, { d: doc.id }, stranger.token);
    expect(hidden.errors).toBeUndefined();
    expect(hidden.data.document).toBeNull();
    const anonymous = await gql(env.url, READ, { d: doc.id });
    expect(codeOf(anonymous)).toBe('UNAUTHENTICATED');
    expect(anonymous).toEqual(await gql(env.url, `${READ} # cold`, { d: doc.id }));
  });

  it('edit as before: refused variables get graphql-js\'s own errors, oneOf ops are still enforced, the document is unharmed', async () => {
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, 'abc');
    let seq = 0;
    let parents: unknown = doc.version;
    // Make the edit hot: these good edits run on graphql-js, then compiled.
    for (let i = 0; i < 4; i++) {
      const r = await gql(env.url, EDIT, { i: { documentId: doc.id, agent: doc.agent, seq, parents, ops: [{ insert: { pos: 3 + i, text: String(i) } }] } }, token);
      expect(r.errors).toBeUndefined();
      expect(r.data.editDocument.document.length).toBe(4 + i);
      parents = r.data.editDocument.version;
      seq++;
    }
    expect((await content(env.url, token, doc.id)).content).toBe('abc0123');
    const base = { documentId: doc.id, agent: doc.agent, seq, parents };
    const badVariables: unknown[] = [
      { ...base, seq: 'one', ops: [{ insert: { pos: 0, text: 'x' } }] },
      { ...base, seq: 1.5, ops: [{ insert: { pos: 0, text: 'x' } }] },
      { ...base, extra: 1, ops: [{ insert: { pos: 0, text: 'x' } }] },
      { ...base, ops: undefined },
      { ...base, parents: 'not a version', ops: [{ insert: { pos: 0, text: 'x' } }] },
      { ...base, parents: { a: 1 }, ops: [{ insert: { pos: 0, text: 'x' } }] },
      { ...base, ops: [null] },
      { ...base, ops: [{ insert: { pos: 0, text: 5 } }] },
      { ...base, ops: [{ insert: { pos: 0, text: 'x', z: 1 } }] },
    ];
    for (const [n, input] of badVariables.entries()) {
      const hot = await gql(env.url, EDIT, { i: input }, token);
      // The same operation under another text (a comment): a document of its own, run once, on graphql-js.
      const cold = await gql(env.url, `${EDIT} # ${n}`, { i: input }, token);
      expect(codeOf(hot), JSON.stringify(hot)).toBe('BAD_USER_INPUT');
      expect(hot).toEqual(cold);
    }
    // graphql-jit does not enforce @oneOf on variables: the executor leaves those to graphql-js.
    for (const [n, ops] of [[{ insert: { pos: 0, text: 'x' }, delete: { pos: 0, len: 1 } }], [{}], [{ insert: null }], [{ insert: null, delete: { pos: 0, len: 1 } }]].entries()) {
      const r = await gql(env.url, EDIT, { i: { ...base, ops } }, token);
      expect(codeOf(r), JSON.stringify(r)).toBe('BAD_USER_INPUT');
      expect(r).toEqual(await gql(env.url, `${EDIT} # oneOf ${n}`, { i: { ...base, ops } }, token));
    }
    expect((await content(env.url, token, doc.id)).content).toBe('abc0123');
    const good = await gql(env.url, EDIT, { i: { ...base, ops: [{ delete: { pos: 0, len: 1 } }] } }, token);
    expect(good.errors).toBeUndefined();
    expect((await content(env.url, token, doc.id)).content).toBe('bc0123');
  });
});

describe('GRAPHQL_JIT_AFTER=0', () => {
  const env = useServer({ graphqlJitAfter: 0 });

  it('never compiles', async () => {
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, 'x');
    for (let i = 0; i < 5; i++) expect((await gql(env.url, READ, { d: doc.id }, token)).data.document.content).toBe('x');
    expect(await compilations(env.url)).toBe(0);
  });
});

describe('an operation graphql-jit cannot compile', () => {
  it('keeps running on graphql-js, answering what graphql-js answers, and is not tried again', async () => {
    const schema = buildSchema('type Query { a: String }');
    const lines: string[] = [];
    const outcomes: boolean[] = [];
    const plugin = executor(1, pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) }), (ok) => outcomes.push(ok));
    let run: ((args: ExecutionArgs) => unknown) | undefined;
    (plugin.onExecute as (p: { setExecuteFn(f: typeof run): void }) => void)({ setExecuteFn: (f) => (run = f) });
    // (Validation would refuse this one in the server; the executor is called directly here.)
    const args = { schema, document: parse('query($x: Nope) { a }'), rootValue: { a: 'x' } };
    const expected = JSON.stringify(await execute(args));
    for (let i = 0; i < 3; i++) expect(JSON.stringify(await run!(args))).toBe(expected);
    expect(JSON.parse(expected).errors[0].message).toMatch(/Nope/);
    expect(outcomes).toEqual([false]);
    expect(lines.filter((l) => l.includes('could not be compiled'))).toHaveLength(1);
    // One it can compile answers the same as graphql-js.
    const ok = { schema, document: parse('{ a }'), rootValue: { a: 'x' } };
    expect(await run!(ok)).toEqual({ data: { a: 'x' } });
    expect(outcomes).toEqual([false, true]);
  });
});
