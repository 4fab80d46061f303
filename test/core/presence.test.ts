import { describe, expect, it } from 'vitest';
import { codeOf, content, edit, gql, join, newDocument, newUser, subscribePresence, UPDATE_PRESENCE, wsClient } from '../helpers/client.js';
import { useServer } from '../helpers/fixture.js';

const env = useServer({ presence: { ttlMs: 1_000, tickMs: 100, idleMs: 60_000 } });

const cp = (s: string) => Array.from(s);

describe('presence', () => {
  it('shows who is here, with name, colour and cursor; the first event lists everyone', async () => {
    const { token } = await newUser(env.url, 'ada');
    const doc = await newDocument(env.url, token, 'hello world');
    const two = await join(env.url, token, doc.id);
    const ws1 = wsClient(env.wsUrl, token);
    const ws2 = wsClient(env.wsUrl, token);
    const one = subscribePresence(ws1, doc.id, doc.agent);
    await one.until(() => one.present.has(doc.agent));
    const other = subscribePresence(ws2, doc.id, two.agent);
    await other.until(() => other.present.size === 2);
    expect(other.events[0]!.full).toBe(true);
    expect(other.events[0]!.participants.map((p) => p.agent).sort()).toEqual([doc.agent, two.agent].sort());
    await one.until(() => one.present.has(two.agent));

    const r = await gql(env.url, UPDATE_PRESENCE, { d: doc.id, agent: two.agent, cursor: { anchor: 6, head: 11 } }, token);
    expect(r.errors).toBeUndefined();
    await one.until(() => one.present.get(two.agent)?.cursor?.head === 11);
    const seen = one.present.get(two.agent)!;
    expect(seen).toMatchObject({ displayName: 'ada', cursor: { anchor: 6, head: 11 }, status: 'ACTIVE', version: doc.version });
    expect(seen.colour).toMatch(/^#[0-9a-f]{6}$/);
    // Status changes are shown too.
    await gql(env.url, UPDATE_PRESENCE, { d: doc.id, agent: two.agent, status: 'IDLE' }, token);
    await one.until(() => one.present.get(two.agent)?.status === 'IDLE');
    expect(one.present.get(two.agent)!.cursor).toEqual({ anchor: 6, head: 11 });
    one.dispose();
    other.dispose();
    await ws1.dispose();
    await ws2.dispose();
  });

  it('keeps a cursor on the same character while others type before it', async () => {
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, 'hello 😀 world');
    const two = await join(env.url, token, doc.id);
    const ws = wsClient(env.wsUrl, token);
    const watcher = subscribePresence(ws, doc.id);
    const held = subscribePresence(ws, doc.id, two.agent); // keeps two present past the TTL
    await watcher.until(() => watcher.present.has(two.agent));
    // The cursor sits before "w" (code point 8), selecting "world".
    await gql(env.url, UPDATE_PRESENCE, { d: doc.id, agent: two.agent, cursor: { anchor: 8, head: 13 }, version: doc.version }, token);
    await watcher.until(() => watcher.present.get(two.agent)?.cursor?.anchor === 8);

    const r1 = await edit(env.url, token, { documentId: doc.id, agent: doc.agent, seq: 0, parents: doc.version, ops: [{ insert: { pos: 0, text: '¡¡' } }, { delete: { pos: 4, len: 1 } }] });
    expect(r1.errors).toBeUndefined();
    const now = await content(env.url, token, doc.id);
    expect(now.content).toBe('¡¡helo 😀 world');
    await watcher.until(() => watcher.present.get(two.agent)?.cursor?.anchor === 9);
    // Delivered with the version its positions refer to: the current one.
    expect(watcher.present.get(two.agent)!.version).toEqual(now.version);
    const c = watcher.present.get(two.agent)!.cursor!;
    expect(cp(now.content).slice(c.anchor, c.head).join('')).toBe('world');

    // Deleting the selected text leaves the cursor where the text was.
    const r2 = await edit(env.url, token, { documentId: doc.id, agent: doc.agent, seq: 3, parents: now.version, ops: [{ delete: { pos: 8, len: 6 } }] });
    expect(r2.errors).toBeUndefined();
    await watcher.until(() => watcher.present.get(two.agent)?.cursor?.head === 8);
    expect(watcher.present.get(two.agent)!.cursor).toEqual({ anchor: 8, head: 8 });

    // A cursor taken away is shown as none, not where it was last moved to; one sent again is shown as sent.
    await gql(env.url, UPDATE_PRESENCE, { d: doc.id, agent: two.agent, cursor: null }, token);
    await watcher.until(() => watcher.present.get(two.agent)?.cursor === null);
    const latest = await content(env.url, token, doc.id);
    await gql(env.url, UPDATE_PRESENCE, { d: doc.id, agent: two.agent, cursor: { anchor: 1, head: 2 }, version: latest.version }, token);
    await watcher.until(() => watcher.present.get(two.agent)?.cursor?.anchor === 1);
    expect(watcher.present.get(two.agent)).toMatchObject({ cursor: { anchor: 1, head: 2 }, version: latest.version });
    held.dispose();
    watcher.dispose();
    await ws.dispose();
  });

  it('a participant leaves when its socket closes, and one that only sent updates leaves after the TTL', async () => {
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, 'x');
    const two = await join(env.url, token, doc.id);
    const three = await join(env.url, token, doc.id);
    const wsWatch = wsClient(env.wsUrl, token);
    const watcher = subscribePresence(wsWatch, doc.id);
    const wsTwo = wsClient(env.wsUrl, token);
    const held = subscribePresence(wsTwo, doc.id, two.agent);
    await watcher.until(() => watcher.present.has(two.agent));
    await gql(env.url, UPDATE_PRESENCE, { d: doc.id, agent: three.agent, cursor: { anchor: 1, head: 1 } }, token);
    await watcher.until(() => watcher.present.has(three.agent));

    await wsTwo.dispose();
    await watcher.until(() => !watcher.present.has(two.agent), 2_000);
    // three sent one update and nothing since: gone after the 1 s TTL of this server.
    await watcher.until(() => !watcher.present.has(three.agent), 5_000);
    expect(watcher.events.flatMap((e) => e.left).sort()).toEqual([two.agent, three.agent].sort());
    held.dispose();
    watcher.dispose();
    await wsWatch.dispose();
  });

  it('refuses a cursor outside the text, an unknown version and an agent that is not yours', async () => {
    const { token } = await newUser(env.url);
    const doc = await newDocument(env.url, token, 'abc');
    const stranger = await newUser(env.url);
    const theirs = await newDocument(env.url, stranger.token, 'zzz');
    expect(codeOf(await gql(env.url, UPDATE_PRESENCE, { d: doc.id, agent: doc.agent, cursor: { anchor: 0, head: 4 } }, token))).toBe('BAD_USER_INPUT');
    expect(codeOf(await gql(env.url, UPDATE_PRESENCE, { d: doc.id, agent: doc.agent, cursor: { anchor: -1, head: 0 } }, token))).toBe('BAD_USER_INPUT');
    expect(codeOf(await gql(env.url, UPDATE_PRESENCE, { d: doc.id, agent: doc.agent, cursor: { anchor: 0, head: 0 }, version: [['nobody', 3]] }, token))).toBe('UNKNOWN_VERSION');
    expect(codeOf(await gql(env.url, UPDATE_PRESENCE, { d: doc.id, agent: theirs.agent, cursor: { anchor: 0, head: 0 } }, token))).toBe('FORBIDDEN');
    expect(codeOf(await gql(env.url, UPDATE_PRESENCE, { d: theirs.id, agent: doc.agent }, token))).toBe('NOT_FOUND');
    expect(codeOf(await gql(env.url, UPDATE_PRESENCE, { d: doc.id, agent: doc.agent }))).toBe('UNAUTHENTICATED');
  });
});

describe('presence, idle', () => {
  const quiet = useServer({ presence: { ttlMs: 5_000, tickMs: 100, idleMs: 300 } });
  it('a participant that sends nothing for PRESENCE_IDLE_MS shows as IDLE, and ACTIVE again when it moves', async () => {
    const { token } = await newUser(quiet.url);
    const doc = await newDocument(quiet.url, token, 'abc');
    const ws = wsClient(quiet.wsUrl, token);
    const watcher = subscribePresence(ws, doc.id);
    await gql(quiet.url, UPDATE_PRESENCE, { d: doc.id, agent: doc.agent, cursor: { anchor: 1, head: 1 } }, token);
    await watcher.until(() => watcher.present.get(doc.agent)?.status === 'ACTIVE');
    await watcher.until(() => watcher.present.get(doc.agent)?.status === 'IDLE', 3_000);
    await gql(quiet.url, UPDATE_PRESENCE, { d: doc.id, agent: doc.agent, cursor: { anchor: 2, head: 2 } }, token);
    await watcher.until(() => watcher.present.get(doc.agent)?.status === 'ACTIVE' && watcher.present.get(doc.agent)?.cursor?.anchor === 2);
    watcher.dispose();
    await ws.dispose();
  });
});
