import { OpLog } from 'diamond-types-node';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PATCH, content, gql, join, newDocument, newUser, ok, replay, subscribeChanges, wsClient, type WireOp } from '../helpers/client.js';
import { textOf } from '../helpers/crdt.js';
import { PROPERTY_LIMITS, useServer, useTwoInstances } from '../helpers/fixture.js';

const ALPHABET = ['a', 'b', 'c', ' ', 'é', '😀', '🎉', '中', '\n'];

type Action =
  | { kind: 'insert'; client: number; at: number; text: string }
  | { kind: 'delete'; client: number; at: number; len: number }
  | { kind: 'submit'; client: number; asPatch: boolean; retry: boolean }
  | { kind: 'sync'; client: number }
  | { kind: 'resubscribe'; client: number; elsewhere: boolean }
  | { kind: 'settle' };

const actionArb = (clients: number): fc.Arbitrary<Action> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('insert' as const), client: fc.nat(clients - 1), at: fc.nat(1000), text: fc.array(fc.constantFrom(...ALPHABET), { minLength: 1, maxLength: 4 }).map((a) => a.join('')) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), client: fc.nat(clients - 1), at: fc.nat(1000), len: fc.integer({ min: 1, max: 3 }) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('submit' as const), client: fc.nat(clients - 1), asPatch: fc.boolean(), retry: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('sync' as const), client: fc.nat(clients - 1) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('resubscribe' as const), client: fc.nat(clients - 1), elsewhere: fc.boolean() }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'settle' as const }) },
  );

/** One editing session: its own diamond-types replica, its agent, and the edits it has not sent yet. */
class Client {
  readonly log: OpLog;
  /** Local ops made one after another since the last submission, and the version they started from. */
  pending: { parents: [string, number][]; ops: WireOp[]; seq: number } | null = null;
  nextSeq = 0;
  chain: Promise<void> = Promise.resolve();
  seen = 0;

  constructor(
    readonly agent: string,
    readonly token: string,
    /** The instance this client sends its edits to. */
    readonly url: string,
    /** Where it receives changes; `resubscribe` replaces it, keeping the events received so far. */
    public sub: ReturnType<typeof subscribeChanges>,
  ) {
    this.log = new OpLog(agent);
  }

  text(): string {
    return textOf(this.log);
  }

  length(): number {
    return Array.from(this.text()).length;
  }

  local(op: WireOp) {
    if (!this.pending) this.pending = { parents: this.log.getRemoteVersion() as [string, number][], ops: [], seq: this.nextSeq };
    if ('insert' in op) {
      this.log.ins(op.insert.pos, op.insert.text);
      this.nextSeq += Array.from(op.insert.text).length;
    } else {
      this.log.del(op.delete.pos, op.delete.len);
      this.nextSeq += op.delete.len;
    }
    this.pending.ops.push(op);
  }

  /** Merges every event received so far (their patches) into the replica. */
  sync() {
    for (; this.seen < this.sub.events.length; this.seen++) {
      this.log.addFromBytes(Buffer.from(this.sub.events[this.seen]!.patch, 'base64'));
    }
  }
}

/** Cases per property: PROPERTY_RUNS=2000 npm test -- convergence searches harder. */
const runs = (n: number) => Number(process.env.PROPERTY_RUNS ?? n);

interface Instance {
  url: string;
  wsUrl: string;
}

/**
 * Random sessions on a fresh document: client i edits and subscribes through instance i mod the
 * number of instances (the observer through the first), and so merges only what its own instance streams.
 */
async function property(instances: Instance[], numRuns: number) {
  const home = instances[0]!;
  const { token } = await newUser(home.url, 'prop');
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 3, max: 6 }).chain((n) => fc.tuple(fc.constant(n), fc.array(actionArb(n), { minLength: 10, maxLength: 60 }))),
      async ([n, actions]) => {
        const doc = await newDocument(home.url, token, '');
        const sockets = instances.map((s) => wsClient(s.wsUrl, token));
        const observer = subscribeChanges(sockets[0]!, doc.id, []);
        const clients: Client[] = [];
        for (let i = 0; i < n; i++) {
          const at = i % instances.length;
          const j = await join(instances[at]!.url, token, doc.id);
          clients.push(new Client(j.agent, token, instances[at]!.url, subscribeChanges(sockets[at]!, doc.id, [])));
        }
        const submit = (c: Client, asPatch: boolean, retry: boolean) => {
          const p = c.pending;
          if (!p) return;
          c.pending = null;
          // The patch is taken now: it carries exactly the ops made so far.
          const patch = asPatch ? Buffer.from(c.log.getPatchSince(new Uint32Array())).toString('base64') : '';
          c.chain = c.chain.then(async () => {
            const send = () =>
              asPatch
                ? gql(c.url, PATCH, { i: { documentId: doc.id, patch } }, c.token)
                : gql(c.url, 'mutation($i: EditDocumentInput!) { editDocument(input: $i) { version } }', { i: { documentId: doc.id, agent: c.agent, seq: p.seq, parents: p.parents, ops: p.ops } }, c.token);
            const first = await send();
            expect(first.errors, JSON.stringify(first.errors)).toBeUndefined();
            if (retry) {
              const again = await send();
              expect(again.errors, JSON.stringify(again.errors)).toBeUndefined();
              if (!asPatch) expect(again.data).toEqual(first.data);
            }
          });
        };
        for (const a of actions) {
          if (a.kind === 'settle') {
            await Promise.all(clients.map((c) => c.chain));
            continue;
          }
          const c = clients[a.client]!;
          if (a.kind === 'insert') c.local({ insert: { pos: a.at % (c.length() + 1), text: a.text } });
          else if (a.kind === 'delete') {
            const len = c.length();
            if (len > 0) {
              const pos = a.at % len;
              c.local({ delete: { pos, len: Math.min(a.len, len - pos) } });
            }
          } else if (a.kind === 'submit') submit(c, a.asPatch, a.retry);
          else if (a.kind === 'resubscribe') {
            // A dropped connection: subscribe again from the last version received, on the same
            // instance or another one. The events before and after must read as one log.
            const received = c.sub.events;
            c.sub.dispose();
            const socket = sockets[(clients.indexOf(c) + (a.elsewhere ? 1 : 0)) % sockets.length]!;
            c.sub = subscribeChanges(socket, doc.id, received.at(-1)?.version ?? []);
            c.sub.events.unshift(...received);
          } else {
            // A client sends what it typed before it merges others' changes: its pending ops stay
            // sequential. Even-numbered clients send it as a patch, odd ones as positional ops.
            submit(c, a.client % 2 === 0, false);
            await c.chain;
            c.sync();
          }
        }
        for (const c of clients) submit(c, false, false);
        await Promise.all(clients.map((c) => c.chain));
        // Every edit is acknowledged: each instance holds its own, and learns the others' a moment
        // later (Redis). Once all instances give the same version, each holds all of them.
        let server_ = await content(home.url, token, doc.id);
        for (let i = 0; instances.length > 1; i++) {
          const all = await Promise.all(instances.map((s) => content(s.url, token, doc.id)));
          server_ = all[0]!;
          if (all.every((x) => JSON.stringify(x.version) === JSON.stringify(server_.version) && x.content === server_.content)) break;
          expect(i, `instances still disagree after 5 s: ${JSON.stringify(all)}`).toBeLessThan(50);
          await new Promise((r) => setTimeout(r, 100));
        }
        const final = JSON.stringify(server_.version);
        for (const c of [...clients.map((x) => x.sub), observer]) {
          await c.until(() => (c.events.length === 0 && final === '[]') || JSON.stringify(c.events.at(-1)?.version) === final);
        }
        expect(replay('', observer.events)).toBe(server_.content);
        // Time travel and blame, on any instance, give the text the stream had at versions it passed.
        const agents = new Set([doc.agent, ...clients.map((c) => c.agent)]);
        for (let k = 1; k <= 3 && observer.events.length > 0; k++) {
          const i = Math.ceil((k * observer.events.length) / 3) - 1;
          const at = instances[k % instances.length]!;
          const past = await ok(at.url, 'query($d: ID!, $v: Version!) { document(id: $d) { contentAt(version: $v) authorship(version: $v) { agent start length text } } }', { d: doc.id, v: observer.events[i]!.version }, token);
          const text = replay('', observer.events.slice(0, i + 1));
          expect(past.document.contentAt).toBe(text);
          let start = 0;
          for (const span of past.document.authorship as { agent: string; start: number; length: number; text: string }[]) {
            expect(span.start).toBe(start);
            expect(Array.from(span.text)).toHaveLength(span.length);
            expect(agents.has(span.agent), span.agent).toBe(true);
            start += span.length;
          }
          expect(past.document.authorship.map((x: { text: string }) => x.text).join('')).toBe(text);
        }
        // A version nobody was sent (the union of two that were, in any order, with a repeat) reads
        // and resumes like any other, on the last instance.
        const other = clients.at(-1)!.sub.events;
        if (observer.events.length > 0 && other.length > 0) {
          const union = [...other[Math.floor(other.length / 2)]!.version, ...observer.events[Math.floor(observer.events.length / 3)]!.version];
          union.push(union[0]!);
          const at = instances.at(-1)!;
          const from = (await ok(at.url, 'query($d: ID!, $v: Version!) { document(id: $d) { contentAt(version: $v) } }', { d: doc.id, v: union }, token)).document.contentAt as string;
          const resumed = subscribeChanges(sockets.at(-1)!, doc.id, union);
          await resumed.until(() => replay(from, resumed.events) === server_.content);
          await new Promise((r) => setTimeout(r, 50));
          expect(replay(from, resumed.events)).toBe(server_.content);
          resumed.dispose();
        }
        for (const c of clients) {
          expect(replay('', c.sub.events)).toBe(server_.content);
          c.sync();
          expect(c.text()).toBe(server_.content);
          c.log.free();
          c.sub.dispose();
        }
        observer.dispose();
        for (const ws of sockets) await ws.dispose();
      },
    ),
    { numRuns },
  );
}

describe('convergence (property)', () => {
  const env = useServer(PROPERTY_LIMITS);
  it('random concurrent edits from 3-6 clients, as positional edits or patches, with retries and reconnects, converge everywhere', async () => {
    await property([env], runs(12));
  });
});

describe('convergence across instances (property)', () => {
  const env = useTwoInstances(PROPERTY_LIMITS);
  it('the same, with the clients split between two instances on one PostgreSQL and Redis', async () => {
    await property([env.a, env.b], runs(8));
  });
});
