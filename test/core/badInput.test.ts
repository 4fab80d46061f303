import { randomBytes } from 'node:crypto';
import { OpLog } from 'diamond-types-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONTENT, PATCH, codeOf, content, edit, gql, join, newDocument, newUser } from '../helpers/client.js';
import { replicaOf } from '../helpers/crdt.js';
import { useServer } from '../helpers/fixture.js';
import { startServer } from '../helpers/server.js';

const env = useServer();
let token: string;
beforeAll(async () => {
  token = (await newUser(env.url, 'bad')).token;
});

const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');

/** Each case leaves the document as it was, and it keeps accepting good edits. */
async function expectUntouched(id: string, agent: string, text: string) {
  const c = await content(env.url, token, id);
  expect(c.content).toBe(text);
  const seqRes = await gql(env.url, CONTENT, { d: id }, token);
  expect(seqRes.errors).toBeUndefined();
  return { c, agent };
}

describe('bad input is refused with a code and harms nothing', () => {
  it('refuses an agent issued to someone else, or to another document', async () => {
    const other = await newUser(env.url, 'other');
    const mine = await newDocument(env.url, token, 'mine');
    const theirs = await newDocument(env.url, other.token, 'theirs');
    const elsewhere = await newDocument(env.url, token, 'elsewhere');
    // The other user's agent for their own document, used on mine: not issued to me for this document.
    const r1 = await edit(env.url, token, { documentId: mine.id, agent: theirs.agent, seq: 0, parents: mine.version, ops: [{ insert: { pos: 0, text: 'x' } }] });
    expect(codeOf(r1)).toBe('FORBIDDEN');
    const r2 = await edit(env.url, token, { documentId: mine.id, agent: elsewhere.agent, seq: 0, parents: mine.version, ops: [{ insert: { pos: 0, text: 'x' } }] });
    expect(codeOf(r2)).toBe('FORBIDDEN');
    const r3 = await edit(env.url, token, { documentId: mine.id, agent: 'made-up-agent', seq: 0, parents: mine.version, ops: [{ insert: { pos: 0, text: 'x' } }] });
    expect(codeOf(r3)).toBe('FORBIDDEN');
    await expectUntouched(mine.id, mine.agent, 'mine');
  });

  it('accepts unsorted and duplicate parents, normalising them', async () => {
    const doc = await newDocument(env.url, token, '');
    const a = await edit(env.url, token, { documentId: doc.id, agent: doc.agent, seq: 0, parents: [], ops: [{ insert: { pos: 0, text: 'abc' } }] });
    const b = await join(env.url, token, doc.id);
    const r = await edit(env.url, token, { documentId: doc.id, agent: b.agent, seq: 0, parents: [[doc.agent, 0], [doc.agent, 2], [doc.agent, 2], [doc.agent, 1]], ops: [{ insert: { pos: 3, text: 'd' } }] });
    expect(r.errors).toBeUndefined();
    expect(a.errors).toBeUndefined();
    expect((await content(env.url, token, doc.id)).content).toBe('abcd');
  });

  it('refuses malformed patches: bad base64, garbage bytes, empty', async () => {
    const doc = await newDocument(env.url, token, 'keep');
    for (const [patch, code] of [
      ['not base64!!', 'BAD_USER_INPUT'],
      ['QUJD$', 'BAD_USER_INPUT'],
      ['', 'BAD_USER_INPUT'],
      [b64(randomBytes(64)), 'BAD_USER_INPUT'],
      [b64(Buffer.concat([Buffer.from('DMNDTYPS'), randomBytes(40)])), 'BAD_USER_INPUT'],
    ] as const) {
      const r = await gql(env.url, PATCH, { i: { documentId: doc.id, patch } }, token);
      expect(codeOf(r), patch).toBe(code);
    }
    await expectUntouched(doc.id, doc.agent, 'keep');
  });

  it('refuses a valid patch made for another document', async () => {
    const target = await newDocument(env.url, token, 'target');
    const source = await newDocument(env.url, token, '');
    const log = new OpLog(source.agent);
    log.ins(0, 'from elsewhere');
    const r = await gql(env.url, PATCH, { i: { documentId: target.id, patch: b64(log.getPatchSince(new Uint32Array())) } }, token);
    log.free();
    expect(codeOf(r)).toBe('FORBIDDEN');
    await expectUntouched(target.id, target.agent, 'target');
  });

  it('refuses a patch whose parents the document does not have', async () => {
    const doc = await newDocument(env.url, token, '');
    const log = new OpLog('stranger');
    log.ins(0, 'x');
    const v = log.getLocalVersion();
    log.setAgent(doc.agent);
    log.ins(1, 'y');
    const r = await gql(env.url, PATCH, { i: { documentId: doc.id, patch: b64(log.getPatchSince(v)) } }, token);
    log.free();
    expect(codeOf(r)).toBe('UNKNOWN_VERSION');
    await expectUntouched(doc.id, doc.agent, '');
  });

  it('refuses a patch with an out-of-range op, which the engine itself would accept and then crash on', async () => {
    const creator = await newDocument(env.url, token, 'abc');
    const creatorAgent = creator.version[0]![0];
    const j = await join(env.url, token, creator.id);
    for (const make of [
      (log: OpLog) => log.ins(10, 'past the end'),
      (log: OpLog) => log.del(1, 5),
      (log: OpLog) => {
        log.ins(3, 'ok');
        log.del(0, 9);
      },
    ]) {
      const log = replicaOf([{ agent: creatorAgent, text: 'abc' }]);
      const before = log.getLocalVersion();
      log.setAgent(j.agent);
      make(log);
      const r = await gql(env.url, PATCH, { i: { documentId: creator.id, patch: b64(log.getPatchSince(before)) } }, token);
      log.free();
      expect(codeOf(r)).toBe('BAD_USER_INPUT');
    }
    await expectUntouched(creator.id, j.agent, 'abc');
    // A valid patch from the same agent is still accepted afterwards.
    const log = replicaOf([{ agent: creatorAgent, text: 'abc' }]);
    const before = log.getLocalVersion();
    log.setAgent(j.agent);
    log.ins(3, '!');
    const ok = await gql(env.url, PATCH, { i: { documentId: creator.id, patch: b64(log.getPatchSince(before)) } }, token);
    log.free();
    expect(ok.errors).toBeUndefined();
    expect((await content(env.url, token, creator.id)).content).toBe('abc!');
  });

  it('checks edits and patches made on the version a patch gave against the text there', async () => {
    const creator = await newDocument(env.url, token, 'abc');
    const creatorAgent = creator.version[0]![0];
    const j = await join(env.url, token, creator.id);
    const k = await join(env.url, token, creator.id); // (joined first: a join reads the text, which would measure it)
    // The patch client's replica: 'abc', then its own edit, 'bcde' (4 characters).
    const client = () => {
      const log = replicaOf([{ agent: creatorAgent, text: 'abc' }]);
      log.setAgent(j.agent);
      log.ins(3, 'de');
      log.del(0, 1);
      return log;
    };
    const base = replicaOf([{ agent: creatorAgent, text: 'abc' }]);
    const mine = client();
    const first = await gql(env.url, PATCH, { i: { documentId: creator.id, patch: b64(mine.getPatchSince(base.getLocalVersion())) } }, token);
    base.free();
    mine.free();
    expect(first.errors).toBeUndefined();
    const v = first.data.applyPatch.version;
    // Another writer edits on that version: past its end is refused, at its end is taken.
    expect(codeOf(await edit(env.url, token, { documentId: creator.id, agent: k.agent, seq: 0, parents: v, ops: [{ insert: { pos: 5, text: 'f' } }] }))).toBe('BAD_USER_INPUT');
    expect((await edit(env.url, token, { documentId: creator.id, agent: k.agent, seq: 0, parents: v, ops: [{ insert: { pos: 4, text: 'f' } }] })).errors).toBeUndefined();
    // The patch client goes on from its own version, concurrently with that edit: checked against its 4 characters.
    for (const [make, code] of [
      [(log: OpLog) => log.del(2, 3), 'BAD_USER_INPUT'],
      [(log: OpLog) => log.ins(4, '!'), undefined],
    ] as const) {
      const log = client();
      const before = log.getLocalVersion();
      make(log);
      const r = await gql(env.url, PATCH, { i: { documentId: creator.id, patch: b64(log.getPatchSince(before)) } }, token);
      log.free();
      expect(codeOf(r)).toBe(code);
    }
    expect(['bcdef!', 'bcde!f']).toContain((await content(env.url, token, creator.id)).content);
  });

  it('refuses a patch that skips ahead in an agent\'s seq: its base version is unknown', async () => {
    const doc = await newDocument(env.url, token, '');
    const log = new OpLog(doc.agent);
    log.ins(0, 'abc'); // seq 0..2: sent, so the server has it
    const base = log.getLocalVersion();
    expect((await gql(env.url, PATCH, { i: { documentId: doc.id, patch: b64(log.getPatchSince(new Uint32Array())) } }, token)).errors).toBeUndefined();
    log.ins(3, 'de', base); // seq 3..4, never sent
    const skipped = log.getLocalVersion();
    log.ins(0, 'Z', base); // seq 5, on parents the server has
    // A diamond-types patch names the version it starts from (here one holding seq 3..4), so a gap
    // in an agent's seq always reaches the server as an unknown base; the seq check behind it is a
    // second line that a well-formed patch cannot reach.
    const gap = await gql(env.url, PATCH, { i: { documentId: doc.id, patch: b64(log.getPatchSince(skipped)) } }, token);
    expect(codeOf(gap)).toBe('UNKNOWN_VERSION');
    log.free();
    await expectUntouched(doc.id, doc.agent, 'abc');
  });

  it('refuses 2 MB of text in one insert, and an oversized body, as PAYLOAD_TOO_LARGE', async () => {
    const doc = await newDocument(env.url, token, 'small');
    const r = await edit(env.url, token, { documentId: doc.id, agent: doc.agent, seq: 0, parents: doc.version, ops: [{ insert: { pos: 0, text: 'x'.repeat(2_000_000) } }] });
    expect(r.status).toBe(413);
    expect(codeOf(r)).toBe('PAYLOAD_TOO_LARGE');
    await expectUntouched(doc.id, doc.agent, 'small');
  });

  it('says where an operation that does not parse goes wrong', async () => {
    const r = await gql(env.url, 'query {\n  me { id\n}', {}, token);
    expect(r.status).toBe(400);
    expect(codeOf(r)).toBe('BAD_USER_INPUT');
    expect(r.errors![0]!.message).toMatch(/^Syntax Error/);
    expect((r.errors![0] as { locations?: unknown }).locations).toEqual([{ line: 3, column: 2 }]);
  });

  it('refuses more characters than an edit may insert even when the body fits', async () => {
    const small = await startServer(env.db.url, { limits: { maxInsertChars: 1000 } } as never);
    try {
      const { token: t } = await newUser(small.url, 'lim');
      const doc = await newDocument(small.url, t, '');
      const r = await edit(small.url, t, { documentId: doc.id, agent: doc.agent, seq: 0, parents: [], ops: [{ insert: { pos: 0, text: '😀'.repeat(1001) } }] });
      expect(codeOf(r)).toBe('PAYLOAD_TOO_LARGE');
      expect(r.errors?.[0]?.extensions?.max).toBe(1000);
    } finally {
      await small.stop();
    }
  });

  it('refuses lone surrogates in titles and content', async () => {
    const r = await gql(env.url, 'mutation($i: CreateDocumentInput!) { createDocument(input: $i) { document { id } } }', { i: { title: 'bad \ud83d title' } }, token);
    expect(codeOf(r)).toBe('BAD_USER_INPUT');
    const r2 = await gql(env.url, 'mutation($i: CreateDocumentInput!) { createDocument(input: $i) { document { id } } }', { i: { title: 't', content: 'x\udc00' } }, token);
    expect(codeOf(r2)).toBe('BAD_USER_INPUT');
  });

  it('requires a token, and refuses a bad one, on every document operation', async () => {
    const doc = await newDocument(env.url, token, 'x');
    for (const t of [undefined, 'forged-token']) {
      expect(codeOf(await gql(env.url, CONTENT, { d: doc.id }, t))).toBe('UNAUTHENTICATED');
      expect(codeOf(await edit(env.url, t as string, { documentId: doc.id, agent: doc.agent, seq: 0, parents: doc.version, ops: [{ insert: { pos: 0, text: 'x' } }] }))).toBe('UNAUTHENTICATED');
      expect(codeOf(await gql(env.url, 'mutation { createDocument(input: { title: "t" }) { document { id } } }', {}, t))).toBe('UNAUTHENTICATED');
      expect(codeOf(await gql(env.url, 'mutation($d: ID!) { joinDocument(documentId: $d) { agent } }', { d: doc.id }, t))).toBe('UNAUTHENTICATED');
    }
    await expectUntouched(doc.id, doc.agent, 'x');
  });

  it('a logged-out token stops working', async () => {
    const u = await newUser(env.url, 'leaving');
    expect((await gql(env.url, '{ me { id } }', {}, u.token)).data.me.id).toBe(u.id);
    expect((await gql(env.url, 'mutation { logOut }', {}, u.token)).data).toEqual({ logOut: true });
    expect(codeOf(await gql(env.url, '{ me { id } }', {}, u.token))).toBe('UNAUTHENTICATED');
  });
});

describe('MAX_DOCUMENT_CHARS', () => {
  const small = useServer({ limits: { maxDocumentChars: 12 } } as never);

  it('refuses an edit or a patch that would make the text longer, counting what deletes freed; the document goes on', async () => {
    const { token: t } = await newUser(small.url, 'limits');
    const doc = await newDocument(small.url, t, 'abcdef');
    const creatorAgent = doc.version[0]![0];
    const tooLong = await edit(small.url, t, { documentId: doc.id, agent: doc.agent, seq: 0, parents: doc.version, ops: [{ insert: { pos: 6, text: 'ghijklm' } }] });
    expect(codeOf(tooLong)).toBe('PAYLOAD_TOO_LARGE');
    // Deleting the text frees room again, though the history keeps growing.
    const cleared = await edit(small.url, t, { documentId: doc.id, agent: doc.agent, seq: 0, parents: doc.version, ops: [{ delete: { pos: 0, len: 6 } }] });
    expect(cleared.errors).toBeUndefined();

    // A patch client with the same history: 10 characters fit, 3 more do not.
    const j = await join(small.url, t, doc.id);
    const client = () => {
      const log = replicaOf([{ agent: creatorAgent, text: 'abcdef' }]);
      log.setAgent(doc.agent);
      log.del(0, 6);
      log.setAgent(j.agent);
      return log;
    };
    const send = async (make: (log: OpLog) => void) => {
      const log = client();
      const before = log.getLocalVersion();
      make(log);
      const r = await gql(small.url, PATCH, { i: { documentId: doc.id, patch: b64(log.getPatchSince(before)) } }, t);
      log.free();
      return r;
    };
    expect((await send((log) => log.ins(0, '0123456789'))).errors).toBeUndefined();
    expect(codeOf(await send((log) => {
      log.ins(0, '0123456789');
      log.ins(10, 'xyz');
    }))).toBe('PAYLOAD_TOO_LARGE');
    expect((await content(small.url, t, doc.id)).content).toBe('0123456789');
    const filled = await edit(small.url, t, { documentId: doc.id, agent: doc.agent, seq: 6, parents: (await content(small.url, t, doc.id)).version, ops: [{ insert: { pos: 10, text: '!?' } }] });
    expect(filled.errors).toBeUndefined();
    expect((await content(small.url, t, doc.id)).content).toBe('0123456789!?');
  });
});
