import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { PATCH, REFUSAL_CODES, codeOf, content, edit, gql, join, newDocument, newUser, replay, subscribeChanges, wsClient } from '../helpers/client.js';
import { patchAgents, replicaOf, textOf, varints, withChecksum, withChunk } from '../helpers/crdt.js';
import { PROPERTY_LIMITS, useServer } from '../helpers/fixture.js';
import { scrape } from '../helpers/metrics.js';

const env = useServer(PROPERTY_LIMITS);
let token: string;
beforeAll(async () => {
  token = (await newUser(env.url, 'fuzz')).token;
});


type Mutation =
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'cut'; at: number }
  | { kind: 'splice'; at: number; remove: number; bytes: number[] };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.nat(255) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), remove: fc.nat(4), bytes: fc.array(fc.nat(255), { maxLength: 6 }) }) },
);

function mutate(patch: Uint8Array, mutations: Mutation[]): Buffer {
  let bytes = [...patch];
  for (const m of mutations) {
    if (bytes.length === 0) break;
    const at = m.at % bytes.length;
    if (m.kind === 'set') bytes[at] = m.byte;
    else if (m.kind === 'cut') bytes = bytes.slice(0, at);
    else bytes.splice(at, m.remove, ...m.bytes);
  }
  return Buffer.from(bytes);
}

type LocalOp = { insert: boolean; at: number; text: string; len: number };
const localOpArb: fc.Arbitrary<LocalOp> = fc.record({
  insert: fc.boolean(),
  at: fc.nat(20),
  text: fc.constantFrom('x', 'yz', '😀', 'é中'),
  len: fc.integer({ min: 1, max: 3 }),
});

describe('patch fuzzing (property)', () => {
  it('a valid patch with random bytes changed, cut or spliced in is applied or refused with a code, and harms nothing', async () => {
    const bystander = await newDocument(env.url, token, 'elsewhere');
    const ws = wsClient(env.wsUrl, token);
    await fc.assert(
      fc.asyncProperty(
        fc.array(localOpArb, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        async (ops, whole, mutations, checksum) => {
          const doc = await newDocument(env.url, token, 'abc');
          const writer = await join(env.url, token, doc.id);
          // The caller's replica: the document's history, then its own ops.
          const log = replicaOf([{ agent: doc.version[0]![0], text: 'abc' }]);
          const base = log.getLocalVersion();
          log.setAgent(writer.agent);
          for (const op of ops) {
            const len = Array.from(textOf(log)).length;
            if (op.insert || len === 0) log.ins(op.at % (len + 1), op.text);
            else log.del(op.at % len, Math.min(op.len, len - (op.at % len)));
          }
          // With the checksum made to match, the mutations reach the checks past it.
          const mutated = mutate(log.getPatchSince(whole ? new Uint32Array() : base), mutations);
          const patch = checksum ? withChecksum(mutated) : mutated;
          log.free();

          const r = await gql(env.url, PATCH, { i: { documentId: doc.id, patch: Buffer.from(patch).toString('base64') } }, token);
          if (r.errors) {
            expect(REFUSAL_CODES, JSON.stringify(r.errors)).toContain(codeOf(r));
            expect((await content(env.url, token, doc.id)).content).toBe('abc');
          }
          // Whatever was accepted, the document's log is still one the stream replays to its text,
          // and it takes a good edit from a new session.
          const now = await content(env.url, token, doc.id);
          const sub = subscribeChanges(ws, doc.id, []);
          await sub.until(() => JSON.stringify(sub.events.at(-1)?.version) === JSON.stringify(now.version));
          expect(replay('', sub.events)).toBe(now.content);
          sub.dispose();
          const next = await join(env.url, token, doc.id);
          const e = await edit(env.url, token, { documentId: doc.id, agent: next.agent, seq: 0, parents: now.version, ops: [{ insert: { pos: 0, text: '>' } }] });
          expect(e.errors, JSON.stringify(e.errors)).toBeUndefined();
          expect((await content(env.url, token, doc.id)).content).toBe('>' + now.content);
        },
      ),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 60) },
    );
    // Nor did any of it reach another document, or crash the engine.
    expect((await content(env.url, token, bystander.id)).content).toBe('elsewhere');
    expect((await scrape(env.url)).samples.get('cowrite_patch_engine_crashes_total')).toBe(0);
    await ws.dispose();
  });

  it('patches that crash the engine when it is given them are refused before it sees them, and harm nothing', async () => {
    const doc = await newDocument(env.url, token, 'abc');
    const writer = await join(env.url, token, doc.id);
    const crashes = enginePanics(doc.version[0]![0], writer.agent, 40);
    expect(crashes.length).toBe(40);
    for (const patch of crashes) {
      const r = await gql(env.url, PATCH, { i: { documentId: doc.id, patch } }, token);
      expect(codeOf(r), JSON.stringify(r.errors)).toBe('BAD_USER_INPUT');
    }
    // None reached the engine: had one, it would have trapped, and been counted.
    expect((await scrape(env.url)).samples.get('cowrite_patch_engine_crashes_total')).toBe(0);
    expect((await content(env.url, token, doc.id)).content).toBe('abc');
    const e = await edit(env.url, token, { documentId: doc.id, agent: writer.agent, seq: 0, parents: doc.version, ops: [{ insert: { pos: 3, text: '!' } }] });
    expect(e.errors, JSON.stringify(e.errors)).toBeUndefined();
    const other = await newDocument(env.url, token, 'fresh');
    const o = await edit(env.url, token, { documentId: other.id, agent: other.agent, seq: 0, parents: other.version, ops: [{ insert: { pos: 5, text: '!' } }] });
    expect(o.errors, JSON.stringify(o.errors)).toBeUndefined();
    expect((await content(env.url, token, other.id)).content).toBe('fresh!');
  });

  it('parents that repeat an operation, or name one of another parent\'s ancestors, are refused before the engine sees them', async () => {
    const doc = await newDocument(env.url, token, 'abc');
    const writer = await join(env.url, token, doc.id);
    const creator = doc.version[0]![0];
    const { patch, inside, outside } = typedAfter(creator, writer.agent, 'wxyz');
    const cases: [string, number[], boolean][] = [
      ['the same parent twice', [4, ...outside(creator, 2, true), ...outside(creator, 2, false)], false],
      ['a parent and one of its ancestors, from the document', [4, ...outside(creator, 1, true), ...outside(creator, 2, false)], false],
      ['a parent and one of its ancestors, from the patch', [2, ...outside(creator, 2, false), 2, inside(2, true), inside(1, false)], false],
      ['a parent from the document that the other parent descends from', [2, ...outside(creator, 2, false), 2, ...outside(creator, 2, true), inside(1, false)], false],
      // Found by the fuzzer (then cut down): this one makes the engine panic.
      ['both, in two runs', [2, ...outside(creator, 2, true), ...outside(creator, 0, false), 1, inside(1, false), 1, inside(2, true), inside(1, false)], true],
    ];
    for (const [what, runs, panics] of cases) {
      const bad = withChunk(patch, 23, varints(runs));
      expect(panicsEngine(creator, bad), what).toBe(panics);
      const r = await gql(env.url, PATCH, { i: { documentId: doc.id, patch: Buffer.from(bad).toString('base64') } }, token);
      expect(codeOf(r), `${what}: ${JSON.stringify(r.errors)}`).toBe('BAD_USER_INPUT');
    }
    expect((await scrape(env.url)).samples.get('cowrite_patch_engine_crashes_total')).toBe(0);
    // The patch as written goes in, and the document reads as it should.
    const ok = await gql(env.url, PATCH, { i: { documentId: doc.id, patch: Buffer.from(patch).toString('base64') } }, token);
    expect(ok.errors, JSON.stringify(ok.errors)).toBeUndefined();
    expect((await content(env.url, token, doc.id)).content).toBe('abcwxyz');
  });

  it('a patch whose parents are rewritten with random well-formed ones is applied or refused with a code, and never crashes the engine', async () => {
    const parentArb = fc.oneof(
      fc.record({ back: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ agent: fc.constantFrom('creator', 'writer'), seq: fc.nat(3) }),
    );
    const runArb = fc.record({ len: fc.integer({ min: 1, max: 4 }), parents: fc.array(parentArb, { minLength: 1, maxLength: 3 }) });
    const ws = wsClient(env.wsUrl, token);
    await fc.assert(
      fc.asyncProperty(fc.array(runArb, { minLength: 1, maxLength: 4 }), async (runs) => {
        const doc = await newDocument(env.url, token, 'abc');
        const writer = await join(env.url, token, doc.id);
        const creator = doc.version[0]![0];
        const { patch, inside, outside } = typedAfter(creator, writer.agent, 'wxyz');
        // Runs of four operations in all, each with its parents.
        const chunk: number[] = [];
        let left = 4;
        for (const run of runs) {
          const len = Math.min(run.len, left);
          if (len === 0) break;
          left -= len;
          chunk.push(len);
          run.parents.forEach((p, i) => {
            const more = i < run.parents.length - 1;
            if ('back' in p) chunk.push(inside(p.back, more));
            else chunk.push(...outside(p.agent === 'creator' ? creator : writer.agent, p.seq, more));
          });
        }
        if (left > 0) chunk.push(left, inside(1, false));
        const r = await gql(env.url, PATCH, { i: { documentId: doc.id, patch: Buffer.from(withChunk(patch, 23, varints(chunk))).toString('base64') } }, token);
        const now = await content(env.url, token, doc.id);
        if (r.errors) {
          expect(REFUSAL_CODES, JSON.stringify(r.errors)).toContain(codeOf(r));
          expect(now.content).toBe('abc');
        } else {
          expect(Array.from(now.content).sort().join('')).toBe('abcwxyz');
        }
        const sub = subscribeChanges(ws, doc.id, []);
        await sub.until(() => JSON.stringify(sub.events.at(-1)?.version) === JSON.stringify(now.version));
        expect(replay('', sub.events)).toBe(now.content);
        sub.dispose();
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 60) },
    );
    expect((await scrape(env.url)).samples.get('cowrite_patch_engine_crashes_total')).toBe(0);
    await ws.dispose();
  });
});

/**
 * `count` distinct patches by `writer` on a document whose history is `creator` typing "abc", each of
 * which makes the engine panic when a copy of that history is given it directly: real patches with a
 * few bytes changed and their checksum made to match again (so that the checksum alone does not turn
 * them away), found by trying, seeded, so the same ones each run.
 */
function enginePanics(creator: string, writer: string, count: number): string[] {
  const server = replicaOf([{ agent: creator, text: 'abc' }]);
  const log = server.clone();
  log.setAgent(writer);
  log.ins(1, 'xyz');
  log.del(0, 2);
  const patch = log.getPatchSince(server.getLocalVersion());
  log.free();
  const found = new Set<string>();
  const quiet = console.error;
  console.error = () => {};
  try {
    let seed = 42;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let tries = 0; tries < 200_000 && found.size < count; tries++) {
      const bytes = Buffer.from(patch);
      // Not the magic and version at the start, nor the checksum at the end.
      for (let j = 0; j < 1 + (tries % 3); j++) bytes[9 + (next() % (bytes.length - 15))] = next() % 256;
      const candidate = withChecksum(bytes);
      const scratch = server.clone();
      try {
        scratch.addFromBytes(candidate);
      } catch (e) {
        if (e instanceof Error && e.name === 'RuntimeError') {
          found.add(Buffer.from(candidate).toString('base64'));
          continue;
        }
      }
      scratch.free();
    }
  } finally {
    console.error = quiet;
    server.free();
  }
  return [...found];
}

/** Whether the engine panics when a replica of `creator` typing "abc" is given `patch` directly. */
function panicsEngine(creator: string, patch: Uint8Array): boolean {
  const log = replicaOf([{ agent: creator, text: 'abc' }]);
  const quiet = console.error;
  console.error = () => {};
  try {
    log.addFromBytes(patch);
    log.checkout().free();
  } catch (e) {
    return e instanceof Error && e.name === 'RuntimeError';
  } finally {
    console.error = quiet;
  }
  log.free();
  return false;
}

/**
 * A writer typing `text` at the end of a document whose history is `creator` typing "abc": the patch,
 * and how to write parents into its parents chunk (chunk 23, runs of [length, parent...]): another
 * operation of the patch, so many back, or an operation by (agent, seq).
 */
function typedAfter(creator: string, writer: string, text: string) {
  const client = replicaOf([{ agent: creator, text: 'abc' }]);
  const base = client.getLocalVersion();
  client.setAgent(writer);
  client.ins(3, text);
  const patch = client.getPatchSince(base);
  client.free();
  const agents = patchAgents(patch);
  return {
    patch,
    inside: (back: number, more: boolean) => (back * 2 + (more ? 1 : 0)) * 2,
    outside: (agent: string, seq: number, more: boolean) => [((agents.indexOf(agent) + 1) * 2 + (more ? 1 : 0)) * 2 + 1, seq],
  };
}
