import { describe, expect, it } from 'vitest';
import { codeOf, content, edit, gql, join, newDocument, newUser, ok, share } from '../helpers/client.js';
import { useServer } from '../helpers/fixture.js';

const s = useServer();

const FORK = 'mutation($d: ID!, $v: Version, $keep: Boolean) { forkDocument(documentId: $d, version: $v, title: "fork", keepHistory: $keep) { document { id content version } } }';
const AT = 'query($d: ID!, $v: Version!) { document(id: $d) { contentAt(version: $v) authorship(version: $v) { text userId } } }';

describe('forkDocument keeping history', () => {
  it("starts a document of the caller's from the history up to a version: same text, same old versions, same authors; the source is untouched", async () => {
    const ada = await newUser(s.url, 'ada');
    const bo = await newUser(s.url, 'bo');
    const src = await newDocument(s.url, ada.token, 'aaa');
    await share(s.url, ada.token, src.id, bo.email);
    const boAgent = (await join(s.url, bo.token, src.id)).agent;
    const v0 = (await content(s.url, ada.token, src.id)).version;
    // Concurrent edits from the same version, then more on top.
    const a1 = await edit(s.url, ada.token, { documentId: src.id, agent: src.agent, seq: 0, parents: v0, ops: [{ insert: { pos: 0, text: 'AA' } }] });
    const b1 = await edit(s.url, bo.token, { documentId: src.id, agent: boAgent, seq: 0, parents: v0, ops: [{ insert: { pos: 3, text: 'bb' } }, { delete: { pos: 1, len: 1 } }] });
    const mid = await content(s.url, ada.token, src.id);
    const b2 = await edit(s.url, bo.token, { documentId: src.id, agent: boAgent, seq: 3, parents: mid.version, ops: [{ insert: { pos: 0, text: 'B' } }] });
    expect([a1.errors, b1.errors, b2.errors]).toEqual([undefined, undefined, undefined]);

    const fork = (await ok(s.url, FORK, { d: src.id, v: mid.version, keep: true }, ada.token)).forkDocument.document;
    expect(fork.content).toBe(mid.content);
    expect(fork.version).toEqual(mid.version);
    for (const v of [v0, a1.data.editDocument.version, mid.version]) {
      const there = (await ok(s.url, AT, { d: src.id, v }, ada.token)).document;
      const here = (await ok(s.url, AT, { d: fork.id, v }, ada.token)).document;
      expect(here).toEqual(there);
    }
    const blame = (await ok(s.url, AT, { d: fork.id, v: mid.version }, ada.token)).document.authorship;
    expect(blame.map((x: { text: string; userId: string }) => [x.text.toLowerCase()[0], x.userId === ada.id ? 'ada' : 'bo'])).toEqual(
      blame.map((x: { text: string }) => [x.text.toLowerCase()[0], x.text.toLowerCase()[0] === 'a' ? 'ada' : 'bo']),
    );
    // The fork is the caller's alone, and takes edits; the source has moved on without it.
    const mine = await join(s.url, ada.token, fork.id);
    const r = await edit(s.url, ada.token, { documentId: fork.id, agent: mine.agent, seq: 0, parents: mine.version, ops: [{ insert: { pos: 0, text: '>' } }] });
    expect(r.errors).toBeUndefined();
    expect((await content(s.url, ada.token, fork.id)).content).toBe(`>${mid.content}`);
    expect((await content(s.url, ada.token, src.id)).content).toBe(`B${mid.content}`);
    expect((await gql(s.url, 'query($d: ID!) { document(id: $d) { id } }', { d: fork.id }, bo.token)).data?.document).toBeNull();
    expect(codeOf(await edit(s.url, bo.token, { documentId: fork.id, agent: boAgent, seq: 3, parents: mid.version, ops: [{ insert: { pos: 0, text: 'x' } }] }))).toBe('NOT_FOUND');
    // Flattened (the default), the fork's history starts at its text.
    const flat = (await ok(s.url, FORK, { d: src.id, v: mid.version }, ada.token)).forkDocument.document;
    expect(flat.content).toBe(mid.content);
    expect(flat.version).not.toEqual(mid.version);
  });
});
