import { Branch, OpLog } from 'diamond-types-node';
import { describe, expect, it } from 'vitest';
import { readTrace, toOps, type ConcurrentTrace } from '../../bench/lib/traces.js';
import { EDIT, gql, join, newDocument, newUser, replay, type Change } from '../helpers/client.js';
import { useServer } from '../helpers/fixture.js';

const env = useServer();
/** Transactions of the trace replayed (a prefix keeps the test short; its concurrency is the same). */
const TXNS = 2_000;

const DIFF = 'query($d: ID!, $a: Version!, $b: Version) { document(id: $d) { diff(from: $a, to: $b) { ops { __typename ... on InsertOp { pos text } ... on DeleteOp { pos len } } } } }';

describe('time travel and diff on a real concurrent trace', () => {
  it('contentAt random versions of friendsforever equals what a fresh diamond-types replica computes at those versions', async () => {
    const trace = readTrace<ConcurrentTrace>('concurrent/friendsforever.json.gz');
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, '');
    const agents = await Promise.all(Array.from({ length: trace.numAgents }, async () => (await join(env.url, token, doc.id)).agent));

    // Through the API: one agent per trace agent, each transaction against its recorded parents.
    const nextSeq = new Array<number>(trace.numAgents).fill(0);
    const remoteOf: [string, number][][] = [];
    // Independently: a fresh replica built from the trace itself, with the same agent names.
    const oplog = new OpLog();
    const localOf: Uint32Array[] = [];
    const union = (vs: Uint32Array[]) => vs.reduce((acc, v) => (acc.length === 0 ? v : oplog.mergeVersions(acc, v)), new Uint32Array());

    for (let k = 0; k < TXNS; k++) {
      const t = trace.txns[k]!;
      const name = agents[t.agent]!;
      const ops = t.patches.flatMap(toOps);
      const parents = t.parents.flatMap((p) => remoteOf[p]!);
      let local = union(t.parents.map((p) => localOf[p]!));
      oplog.setAgent(name);
      let events = 0;
      for (const op of ops) {
        const lv = 'insert' in op ? oplog.ins(op.insert.pos, op.insert.text, local) : oplog.del(op.delete.pos, op.delete.len, local);
        local = new Uint32Array([lv]);
        events += 'insert' in op ? Array.from(op.insert.text).length : op.delete.len;
      }
      localOf[k] = local;
      if (events === 0) {
        remoteOf[k] = parents;
        continue;
      }
      const r = await gql(env.url, EDIT, { i: { documentId: doc.id, agent: name, seq: nextSeq[t.agent], parents, ops } }, token);
      expect(r.errors, `txn ${k}: ${JSON.stringify(r.errors)}`).toBeUndefined();
      nextSeq[t.agent]! += events;
      remoteOf[k] = [[name, nextSeq[t.agent]! - 1]];
    }

    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let n = 0; n < 40; n++) {
      const k = Math.floor(random() * TXNS);
      const expected = new Branch();
      expected.merge(oplog, localOf[k]!);
      const text = expected.get();
      expected.free();
      const r = await gql(env.url, 'query($d: ID!, $v: Version!) { document(id: $d) { contentAt(version: $v) } }', { d: doc.id, v: remoteOf[k] }, token);
      expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
      expect(r.data.document.contentAt, `txn ${k}`).toBe(text);
    }
    // diff between random pairs: its ops turn the independent text at one into the text at the other.
    const textAt = (k: number) => {
      const b = new Branch();
      b.merge(oplog, localOf[k]!);
      const t = b.get();
      b.free();
      return t;
    };
    for (let n = 0; n < 20; n++) {
      const a = Math.floor(random() * TXNS);
      const b = Math.floor(random() * TXNS);
      const r = await gql(env.url, DIFF, { d: doc.id, a: remoteOf[a], b: remoteOf[b] }, token);
      expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
      expect(replay(textAt(a), [{ ops: r.data.document.diff.ops } as Change]), `diff ${a} -> ${b}`).toBe(textAt(b));
    }
    oplog.free();
  });
});
