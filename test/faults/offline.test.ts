import { OpLog } from 'diamond-types-node';
import { describe, expect, it } from 'vitest';
import { EDIT, PATCH, content, gql, join, newDocument, newUser, replay, subscribeChanges, wsClient, type WireOp } from '../helpers/client.js';
import { textOf } from '../helpers/crdt.js';
import { useServer } from '../helpers/fixture.js';

const env = useServer();

const ALPHABET = ['a', 'b', 'c', ' ', 'é', '😀', '中', '\n'];

/** A deterministic pseudo-random sequence (so a failure can be replayed). */
function rng(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
}

/** An editing session with its own diamond-types replica. */
class Editor {
  readonly log: OpLog;
  length = 0;
  seq = 0;
  constructor(readonly agent: string) {
    this.log = new OpLog(agent);
  }
  text(): string {
    return textOf(this.log);
  }
  merge(patchBase64: string) {
    this.log.addFromBytes(Buffer.from(patchBase64, 'base64'));
    this.length = Array.from(this.text()).length;
  }
  /** Makes `n` random local ops; returns them as positional ops (each seeing the text after the previous). */
  type(n: number, random: () => number): WireOp[] {
    const ops: WireOp[] = [];
    for (let i = 0; i < n; i++) {
      if (this.length > 0 && random() < 0.3) {
        const pos = Math.floor(random() * this.length);
        const len = Math.min(1 + Math.floor(random() * 3), this.length - pos);
        this.log.del(pos, len);
        this.length -= len;
        this.seq += len;
        ops.push({ delete: { pos, len } });
      } else {
        const pos = Math.floor(random() * (this.length + 1));
        const text = ALPHABET[Math.floor(random() * ALPHABET.length)]!;
        this.log.ins(pos, text);
        this.length += 1;
        this.seq += 1;
        ops.push({ insert: { pos, text } });
      }
    }
    return ops;
  }
}

async function offlineRun(asPatch: boolean) {
  const { token } = await newUser(env.url, 'offline');
  const doc = await newDocument(env.url, token, 'the shared start\n');
  const ws = wsClient(env.wsUrl, token);
  const observer = subscribeChanges(ws, doc.id, []);
  await observer.until(() => observer.events.length > 0);

  // Both editors start from the document as it is now.
  const online = new Editor((await join(env.url, token, doc.id)).agent);
  const offline = new Editor((await join(env.url, token, doc.id)).agent);
  for (const e of [online, offline]) for (const ev of observer.events) e.merge(ev.patch);
  const wentOffline = offline.log.getLocalVersion();
  const wentOfflineRemote = offline.log.getRemoteVersion() as [string, number][];

  // The offline client types 4,000 ops while the online one sends 4,000 in 400 edits.
  const random = rng(asPatch ? 1 : 2);
  const offlineOps = offline.type(4_000, random);
  let parents: unknown = online.log.getRemoteVersion();
  for (let i = 0; i < 400; i++) {
    const seq = online.seq;
    const ops = online.type(10, random);
    const r = await gql(env.url, EDIT, { i: { documentId: doc.id, agent: online.agent, seq, parents, ops } }, token);
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    parents = r.data.editDocument.version;
  }

  // Back online: everything typed, submitted against the version it went offline at.
  if (asPatch) {
    const patch = Buffer.from(offline.log.getPatchSince(wentOffline)).toString('base64');
    const r = await gql(env.url, PATCH, { i: { documentId: doc.id, patch } }, token);
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
  } else {
    // As positional edits of up to 500 ops, each against the client's own previous version.
    let seq = 0;
    let base: unknown = wentOfflineRemote;
    for (let i = 0; i < offlineOps.length; i += 500) {
      const ops = offlineOps.slice(i, i + 500);
      const r = await gql(env.url, EDIT, { i: { documentId: doc.id, agent: offline.agent, seq, parents: base, ops } }, token);
      expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
      seq += ops.reduce((n, op) => n + ('insert' in op ? Array.from(op.insert.text).length : op.delete.len), 0);
      base = [[offline.agent, seq - 1]];
    }
  }

  const server = await content(env.url, token, doc.id);
  // The offline client resumes its subscription from where it left, and merges what it missed.
  const resumed = subscribeChanges(ws, doc.id, wentOfflineRemote);
  const final = JSON.stringify(server.version);
  await resumed.until(() => JSON.stringify(resumed.events.at(-1)?.version) === final, 30_000);
  for (const ev of resumed.events) offline.merge(ev.patch);
  await observer.until(() => JSON.stringify(observer.events.at(-1)?.version) === final, 30_000);
  for (const ev of observer.events) online.merge(ev.patch);

  expect(offline.text()).toBe(server.content);
  expect(online.text()).toBe(server.content);
  expect(replay('', observer.events)).toBe(server.content);
  // Nothing of either side was lost: every op of both is in the merged history.
  expect(server.version).toEqual(expect.arrayContaining([[offline.agent, offline.seq - 1]]));
  online.log.free();
  offline.log.free();
  observer.dispose();
  resumed.dispose();
  await ws.dispose();
}

describe('a client that was offline for a long time', () => {
  it('sends thousands of its edits as one patch against its old parents and converges with thousands made meanwhile', async () => {
    await offlineRun(true);
  });

  it('sends them as positional edits against its old parents and converges too', async () => {
    await offlineRun(false);
  });
});
