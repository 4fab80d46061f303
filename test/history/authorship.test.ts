import { describe, expect, it } from 'vitest';
import { content, edit, gql, join, newDocument, newUser, ok, share, type WireOp } from '../helpers/client.js';
import { useServer } from '../helpers/fixture.js';

const s = useServer();

const BLAME = 'query($d: ID!, $v: Version) { document(id: $d) { content authorship(version: $v) { start length text userId agent at } } }';

/** A tiny deterministic generator, so a failure can be replayed. */
function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

describe('authorship (blame)', () => {
  it('attributes every character of a generated three-user document (concurrent edits, deletes, emoji) to the user who typed it, now and at an earlier version', async () => {
    const random = rng(20261126);
    const owner = await newUser(s.url, 'ada');
    const doc = await newDocument(s.url, owner.token, '');
    const others = [await newUser(s.url, 'bo'), await newUser(s.url, 'cy')];
    for (const u of others) await share(s.url, owner.token, doc.id, u.email);
    // Each user types only their own characters, so the text itself says who wrote each one.
    const alphabets = [['a', 'A', '🍎'], ['b', 'B', '🍌'], ['c', 'C', '🥥']];
    const users = [
      { ...owner, agent: doc.agent, seq: 0 },
      ...(await Promise.all(others.map(async (u) => ({ ...u, agent: (await join(s.url, u.token, doc.id)).agent, seq: 0 })))),
    ];
    const writerOf = new Map<string, string>();
    alphabets.forEach((chars, i) => chars.forEach((c) => writerOf.set(c, users[i]!.id)));

    let earlier: { version: unknown; content: string } | null = null;
    for (let round = 0; round < 30; round++) {
      // Every user starts the round from the same version, so their edits are concurrent.
      const base = await content(s.url, owner.token, doc.id);
      for (const [i, u] of users.entries()) {
        const text = Array.from(base.content);
        let parents: unknown = base.version;
        for (let k = 0; k < 1 + Math.floor(random() * 3); k++) {
          let op: WireOp;
          if (text.length > 4 && random() < 0.3) {
            const pos = Math.floor(random() * (text.length - 2));
            const len = 1 + Math.floor(random() * 2);
            text.splice(pos, len);
            op = { delete: { pos, len } };
          } else {
            const pos = Math.floor(random() * (text.length + 1));
            const chars = Array.from({ length: 1 + Math.floor(random() * 4) }, () => alphabets[i]![Math.floor(random() * 3)]!);
            text.splice(pos, 0, ...chars);
            op = { insert: { pos, text: chars.join('') } };
          }
          const r = await edit(s.url, u.token, { documentId: doc.id, agent: u.agent, seq: u.seq, parents, ops: [op] });
          expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
          u.seq += 'insert' in op ? Array.from(op.insert.text).length : op.delete.len;
          parents = r.data.editDocument.version;
        }
      }
      if (round === 15) {
        const c = await content(s.url, owner.token, doc.id);
        earlier = { version: c.version, content: c.content };
      }
    }

    const check = async (version: unknown, expected: string | null) => {
      const d = (await ok(s.url, BLAME, { d: doc.id, v: version }, owner.token)).document;
      const spans = d.authorship as { start: number; length: number; text: string; userId: string; at: string | null }[];
      const text = expected ?? d.content;
      expect(spans.map((x) => x.text).join('')).toBe(text);
      let at = 0;
      for (const span of spans) {
        expect(span.start).toBe(at);
        expect(Array.from(span.text)).toHaveLength(span.length);
        for (const ch of span.text) expect(span.userId, `"${ch}" at ${at}`).toBe(writerOf.get(ch));
        expect(span.at).not.toBeNull();
        at += span.length;
      }
      expect(new Set(spans.map((x) => x.userId)).size).toBe(3);
      return spans.length;
    };
    expect(await check(null, null)).toBeGreaterThan(3);
    expect(earlier).not.toBeNull();
    expect(Array.from(earlier!.content).length).toBeGreaterThan(20);
    await check(earlier!.version, earlier!.content);
  });

  it('needs only read access, and answers UNKNOWN_VERSION for a version the document does not have', async () => {
    const owner = await newUser(s.url);
    const viewer = await newUser(s.url);
    const doc = await newDocument(s.url, owner.token, 'hello');
    await share(s.url, owner.token, doc.id, viewer.email, 'VIEWER');
    const spans = (await ok(s.url, BLAME, { d: doc.id }, viewer.token)).document.authorship;
    expect(spans).toEqual([expect.objectContaining({ start: 0, length: 5, text: 'hello', userId: owner.id })]);
    const bad = await gql(s.url, BLAME, { d: doc.id, v: [['nobody', 3]] }, owner.token);
    expect(bad.errors?.[0]?.extensions?.code).toBe('UNKNOWN_VERSION');
  });
});
