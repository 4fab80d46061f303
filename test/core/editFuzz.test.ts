import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { REFUSAL_CODES, UPDATE_PRESENCE, codeOf, content, edit, gql, join, newDocument, newUser, replay, subscribeChanges, wsClient } from '../helpers/client.js';
import { PROPERTY_LIMITS, useServer } from '../helpers/fixture.js';

const env = useServer(PROPERTY_LIMITS);
let token: string;
beforeAll(async () => {
  token = (await newUser(env.url, 'fuzz')).token;
});


const TEXTS = ['a', 'xy', '😀', 'é中', '\n', '\ud800', 'b\udc00', ''];

interface Attempt {
  ops: ({ insert: boolean; pos: number; text: string; len: number })[];
  seq: 'next' | 'skip' | 'again' | 'zero';
  parents: 'current' | 'empty' | 'unknown' | 'doubled' | 'future';
}

const attemptArb: fc.Arbitrary<Attempt> = fc.record({
  ops: fc.array(fc.record({ insert: fc.boolean(), pos: fc.integer({ min: -2, max: 12 }), text: fc.constantFrom(...TEXTS), len: fc.integer({ min: -1, max: 4 }) }), { minLength: 0, maxLength: 3 }),
  seq: fc.constantFrom('next', 'next', 'next', 'skip', 'again', 'zero'),
  parents: fc.constantFrom('current', 'current', 'current', 'empty', 'unknown', 'doubled', 'future'),
});

describe('edit fuzzing (property)', () => {
  it('positional edits with random positions, lengths, text, seqs and parents are applied or refused with a code; what was applied adds up', async () => {
    const ws = wsClient(env.wsUrl, token);
    await fc.assert(
      fc.asyncProperty(fc.array(attemptArb, { minLength: 1, maxLength: 12 }), async (attempts) => {
        const doc = await newDocument(env.url, token, 'hello');
        const me = await join(env.url, token, doc.id);
        let seq = 0;
        let version: [string, number][] = (await content(env.url, token, doc.id)).version;
        let length = 5;
        for (const a of attempts) {
          const parents = {
            current: version,
            empty: [],
            unknown: [['nobody-knows-me', 3]],
            doubled: [...version, ...version],
            future: [[me.agent, seq + 5]],
          }[a.parents];
          const s = { next: seq, skip: seq + 1, again: Math.max(0, seq - 1), zero: 0 }[a.seq];
          const ops = a.ops.map((o) => (o.insert ? { insert: { pos: o.pos, text: o.text } } : { delete: { pos: o.pos, len: o.len } }));
          const r = await edit(env.url, token, { documentId: doc.id, agent: me.agent, seq: s, parents, ops });
          if (r.errors) {
            expect(REFUSAL_CODES, JSON.stringify(r.errors)).toContain(codeOf(r));
            continue;
          }
          if (s < seq) continue; // a retry of what was applied: nothing changes
          for (const o of a.ops) {
            const n = o.insert ? Array.from(o.text).length : o.len;
            seq += n;
            length += o.insert ? n : -n;
          }
          version = r.data.editDocument.version;
        }
        const now = await content(env.url, token, doc.id);
        expect(now.length).toBe(length);
        expect(Array.from(now.content)).toHaveLength(length);
        const sub = subscribeChanges(ws, doc.id, []);
        await sub.until(() => JSON.stringify(sub.events.at(-1)?.version) === JSON.stringify(now.version));
        expect(replay('', sub.events)).toBe(now.content);
        sub.dispose();
        // And the agent goes on from where the server says it is.
        const e = await edit(env.url, token, { documentId: doc.id, agent: me.agent, seq, parents: now.version, ops: [{ insert: { pos: length, text: '.' } }] });
        expect(e.errors, JSON.stringify(e.errors)).toBeUndefined();
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 40) },
    );
    await ws.dispose();
  });

  it('presence updates with random cursors and versions, between edits, are taken or refused with a code; the document goes on', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            edit: fc.boolean(),
            anchor: fc.oneof(fc.integer({ min: -3, max: 15 }), fc.constant(2 ** 31 - 1)),
            head: fc.integer({ min: -3, max: 15 }),
            version: fc.constantFrom('current', 'first', 'empty', 'unknown', 'none'),
            status: fc.constantFrom('ACTIVE', 'IDLE', undefined),
          }),
          { minLength: 1, maxLength: 10 },
        ),
        async (steps) => {
          const doc = await newDocument(env.url, token, 'hello');
          const me = await join(env.url, token, doc.id);
          const first = (await content(env.url, token, doc.id)).version;
          let version = first;
          let seq = 0;
          for (const step of steps) {
            if (step.edit) {
              const r = await edit(env.url, token, { documentId: doc.id, agent: me.agent, seq, parents: version, ops: [{ insert: { pos: 0, text: 'ab' } }] });
              expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
              version = r.data.editDocument.version;
              seq += 2;
            }
            const v = { current: version, first, empty: [], unknown: [['nobody-knows-me', 1]], none: undefined }[step.version];
            const r = await gql(env.url, UPDATE_PRESENCE, { d: doc.id, agent: me.agent, cursor: { anchor: step.anchor, head: step.head }, ...(v ? { version: v } : {}), ...(step.status ? { status: step.status } : {}) }, token);
            if (r.errors) expect(REFUSAL_CODES, JSON.stringify(r.errors)).toContain(codeOf(r));
            else {
              const length = 5 + seq;
              const { anchor, head } = r.data.updatePresence.cursor;
              for (const p of [anchor, head]) expect(p >= 0 && p <= length, `cursor ${p} outside 0..${length}`).toBe(true);
            }
          }
          const now = await content(env.url, token, doc.id);
          expect(now.content).toBe('ab'.repeat(seq / 2) + 'hello');
        },
      ),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 20) },
    );
  });
});
