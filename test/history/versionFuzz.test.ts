import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { content, edit, gql, join, newDocument, newUser, replay, type Change } from '../helpers/client.js';
import { PROPERTY_LIMITS, useServer } from '../helpers/fixture.js';

const env = useServer(PROPERTY_LIMITS);
let token: string;
beforeAll(async () => {
  token = (await newUser(env.url, 'fuzz')).token;
});

const READS = `query($d: ID!, $v: Version, $from: Version!) { document(id: $d) {
  content
  contentAt(version: $v)
  export(format: TEXT, version: $v)
  authorship(version: $v) { text }
  diff(from: $from) { ops { __typename ... on InsertOp { pos text } ... on DeleteOp { pos len } } }
} }`;

type Pair = [string, number];

/** How a version to read at is made from the versions the writers were given. */
type Pick =
  | { kind: 'given'; i: number }
  | { kind: 'union'; i: number; j: number }
  | { kind: 'future'; i: number; ahead: number }
  | { kind: 'odd'; value: unknown };

const ODD: unknown[] = [[['nobody-knows-me', 0]], [['ROOT', 0]], [['', 0]], 'x', {}, [[1, 2]], [['a']], ['a', 0], [[null, 0]], [['a', 0, 1]]];

const pickArb: fc.Arbitrary<Pick> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('given' as const), i: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('union' as const), i: fc.nat(), j: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('future' as const), i: fc.nat(), ahead: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('odd' as const), value: fc.oneof(fc.constantFrom(...ODD), fc.tuple(fc.string({ maxLength: 3 }), fc.integer({ min: -2, max: 2 })).map((p) => [p]), fc.double().map((x) => [['a', x]])) }) },
);

/** Who types next, and on which version: the last one they were given, or one given to anyone. */
const turnArb = fc.record({ writer: fc.nat(2), stale: fc.boolean(), from: fc.nat(), text: fc.constantFrom('a', 'bc', '😀', 'é\n') });

describe('reads at any version (property)', () => {
  it('contentAt, export, authorship and diff at a random version, given or made up, agree with each other and with now, or are refused with a code', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(turnArb, { minLength: 1, maxLength: 10 }), fc.array(pickArb, { minLength: 1, maxLength: 6 }), async (turns, picks) => {
        const doc = await newDocument(env.url, token, 'hello');
        const writers = await Promise.all([0, 1, 2].map(async () => ({ ...(await join(env.url, token, doc.id)), seq: 0 })));
        const given: Pair[][] = [doc.version];
        for (const t of turns) {
          const w = writers[t.writer]!;
          // Inserting at the start is valid at any version: concurrent histories without refusals.
          const parents = t.stale ? given[t.from % given.length]! : w.version;
          const r = await edit(env.url, token, { documentId: doc.id, agent: w.agent, seq: w.seq, parents, ops: [{ insert: { pos: 0, text: t.text } }] });
          expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
          w.seq += Array.from(t.text).length;
          w.version = r.data.editDocument.version;
          given.push(w.version);
        }
        const now = await content(env.url, token, doc.id);
        for (const p of picks) {
          const at = (i: number) => given[i % given.length]!;
          const version =
            p.kind === 'given' ? at(p.i)
            : p.kind === 'union' ? [...at(p.j), ...at(p.i)]
            : p.kind === 'future' ? [[writers[p.i % writers.length]!.agent, writers[p.i % writers.length]!.seq + p.ahead - 1]]
            : p.value;
          const r = await gql(env.url, READS, { d: doc.id, v: version, from: version }, token);
          if (r.errors) {
            for (const e of r.errors) expect(['BAD_USER_INPUT', 'UNKNOWN_VERSION'], `${JSON.stringify(version)}: ${JSON.stringify(r.errors)}`).toContain(e.extensions?.code);
            // Every version the writers were given, and any union of them, can be read.
            expect(p.kind === 'given' || p.kind === 'union', `${JSON.stringify(version)}: ${JSON.stringify(r.errors)}`).toBe(false);
            continue;
          }
          expect(p.kind === 'future', JSON.stringify(version)).toBe(false);
          const d = r.data.document;
          expect(d.content).toBe(now.content);
          expect(d.export).toBe(d.contentAt);
          expect(d.authorship.map((s: { text: string }) => s.text).join('')).toBe(d.contentAt);
          expect(replay(d.contentAt, [{ ops: d.diff.ops } as Change])).toBe(now.content);
        }
        // Nothing read harmed the document.
        const w = writers[0]!;
        const e = await edit(env.url, token, { documentId: doc.id, agent: w.agent, seq: w.seq, parents: now.version, ops: [{ insert: { pos: 0, text: '>' } }] });
        expect(e.errors, JSON.stringify(e.errors)).toBeUndefined();
        expect((await content(env.url, token, doc.id)).content).toBe('>' + now.content);
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 40) },
    );
  });
});
