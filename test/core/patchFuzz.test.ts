import { OpLog } from 'diamond-types-node';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { PATCH, REFUSAL_CODES, codeOf, content, edit, gql, join, newDocument, newUser, replay, subscribeChanges, wsClient } from '../helpers/client.js';
import { replicaOf, textOf } from '../helpers/crdt.js';
import { PROPERTY_LIMITS, useServer } from '../helpers/fixture.js';
import { startServer } from '../helpers/server.js';

// Patches that crash the engine are limited per user (RATE_BROKEN_PATCHES_PER_USER); this file
// sends many on purpose, so its server allows them, and one test starts a server that does not.
const env = useServer({ rateLimits: { ...PROPERTY_LIMITS.rateLimits, brokenPatchesPerUser: 1_000_000 } });
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
        async (ops, whole, mutations) => {
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
          const patch = mutate(log.getPatchSince(whole ? new Uint32Array() : base), mutations);
          log.free();

          const r = await gql(env.url, PATCH, { i: { documentId: doc.id, patch: patch.toString('base64') } }, token);
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
    // Nor did any of it reach another document.
    expect((await content(env.url, token, bystander.id)).content).toBe('elsewhere');
    await ws.dispose();
  });

  it('two thousand patches that crash the engine harm nothing: each is refused, and every document keeps taking edits', async () => {
    const doc = await newDocument(env.url, token, 'abc');
    const writer = await join(env.url, token, doc.id);
    const crash = crashingPatch(doc.version[0]![0], writer.agent);
    // Each crash used to leave the engine's own stack lower for good; about 1,500 broke every
    // document on the server ("memory access out of bounds").
    for (let i = 0; i < 2000; i++) {
      const r = await gql(env.url, PATCH, { i: { documentId: doc.id, patch: crash } }, token);
      expect(codeOf(r), JSON.stringify(r.errors)).toBe('BAD_USER_INPUT');
    }
    expect((await content(env.url, token, doc.id)).content).toBe('abc');
    const e = await edit(env.url, token, { documentId: doc.id, agent: writer.agent, seq: 0, parents: doc.version, ops: [{ insert: { pos: 3, text: '!' } }] });
    expect(e.errors, JSON.stringify(e.errors)).toBeUndefined();
    const other = await newDocument(env.url, token, 'fresh');
    const o = await edit(env.url, token, { documentId: other.id, agent: other.agent, seq: 0, parents: other.version, ops: [{ insert: { pos: 5, text: '!' } }] });
    expect(o.errors, JSON.stringify(o.errors)).toBeUndefined();
    expect((await content(env.url, token, other.id)).content).toBe('fresh!');
  });

  it('a user whose patches keep crashing the engine is refused patches for the hour; edits and other users go on', async () => {
    const strict = await startServer(env.db.url, { rateLimits: { brokenPatchesPerUser: 3 } });
    try {
      const { token: mallory } = await newUser(strict.url, 'mallory');
      const { token: alice } = await newUser(strict.url, 'alice');
      const doc = await newDocument(strict.url, mallory, 'abc');
      const writer = await join(strict.url, mallory, doc.id);
      const crash = crashingPatch(doc.version[0]![0], writer.agent);
      for (let i = 0; i < 3; i++) expect(codeOf(await gql(strict.url, PATCH, { i: { documentId: doc.id, patch: crash } }, mallory))).toBe('BAD_USER_INPUT');
      const refused = await gql(strict.url, PATCH, { i: { documentId: doc.id, patch: crash } }, mallory);
      expect(codeOf(refused)).toBe('RATE_LIMITED');
      expect(refused.errors![0]!.extensions!.limit).toBe('brokenPatchesPerUser');
      // A good patch too, from that user, for now.
      const good = replicaOf([{ agent: doc.version[0]![0], text: 'abc' }]);
      const base = good.getLocalVersion();
      good.setAgent(writer.agent);
      good.ins(3, '!');
      const patch = Buffer.from(good.getPatchSince(base)).toString('base64');
      good.free();
      expect(codeOf(await gql(strict.url, PATCH, { i: { documentId: doc.id, patch } }, mallory))).toBe('RATE_LIMITED');
      // Positional edits are not patches.
      const e = await edit(strict.url, mallory, { documentId: doc.id, agent: writer.agent, seq: 0, parents: doc.version, ops: [{ insert: { pos: 3, text: '!' } }] });
      expect(e.errors, JSON.stringify(e.errors)).toBeUndefined();
      // Someone else's patches are not held back.
      const hers = await newDocument(strict.url, alice, '');
      const log = new OpLog(hers.agent);
      log.ins(0, 'mine');
      expect((await gql(strict.url, PATCH, { i: { documentId: hers.id, patch: Buffer.from(log.getPatchSince(new Uint32Array())).toString('base64') } }, alice)).errors).toBeUndefined();
      log.free();
    } finally {
      await strict.stop();
    }
  });
});

/**
 * A patch by `writer` on a document whose history is `creator` typing "abc" that makes the engine
 * panic while decoding it: a real patch with a few bytes changed, found by trying (seeded, so the
 * same one each run) against a replica with that history.
 */
function crashingPatch(creator: string, writer: string): string {
  const server = replicaOf([{ agent: creator, text: 'abc' }]);
  const log = server.clone();
  log.setAgent(writer);
  log.ins(1, 'xyz');
  log.del(0, 2);
  const patch = log.getPatchSince(server.getLocalVersion());
  log.free();
  const quiet = console.error;
  console.error = () => {};
  try {
    let seed = 42;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let tries = 0; tries < 100_000; tries++) {
      const bytes = Buffer.from(patch);
      for (let j = 0; j < 1 + (tries % 3); j++) bytes[next() % bytes.length] = next() % 256;
      const scratch = server.clone();
      try {
        scratch.addFromBytes(bytes);
      } catch (e) {
        if (e instanceof Error && e.name === 'RuntimeError') return bytes.toString('base64');
      }
      scratch.free();
    }
  } finally {
    console.error = quiet;
    server.free();
  }
  throw new Error('no crashing patch found');
}
