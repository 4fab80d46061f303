import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { content, edit, newDocument, newUser, replay, subscribeChanges, wsClient, type Change } from '../helpers/client.js';
import { useServer } from '../helpers/fixture.js';
import { until } from '../helpers/wait.js';

// Small bounds, so a stopped reader passes them quickly: 50 events or 1 MiB queued.
// A long keep-alive: this test is about a client that is slow, not one that is gone (the next test).
const ctx = useServer({ limits: { maxSubscriberBufferEvents: 50, maxSubscriberBufferBytes: 1024 * 1024 }, wsKeepAliveMs: 120_000 });

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

/** A subscriber in its own process (test/helpers/subscriberProcess.ts); its output lines, parsed. */
function spawnSubscriber(token: string, documentId: string, since: unknown, wsUrl = ctx.wsUrl) {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/subscriberProcess.ts'], {
    env: { ...process.env, WS_URL: wsUrl, TOKEN: token, DOCUMENT_ID: documentId, SINCE: JSON.stringify(since) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(proc);
  const lines: any[] = [];
  let rest = '';
  proc.stdout!.on('data', (d) => {
    const parts = (rest + d).split('\n');
    rest = parts.pop()!;
    for (const p of parts) lines.push(JSON.parse(p));
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return { proc, lines, exited };
}

/** Writes `n` edits of `size` characters each at the end of the document. */
async function write(token: string, doc: { id: string; agent: string; version: unknown }, from: { seq: number; len: number; parents: unknown }, n: number, size: number) {
  let { seq, len, parents } = from;
  for (let i = 0; i < n; i++) {
    const text = String.fromCharCode(97 + (i % 26)).repeat(size);
    const r = await edit(ctx.url, token, { documentId: doc.id, agent: doc.agent, seq, parents, ops: [{ insert: { pos: len, text } }] });
    expect(r.errors).toBeUndefined();
    parents = r.data.editDocument.version;
    seq += size;
    len += size;
  }
  return { seq, len, parents };
}

describe('a subscriber that stops reading', () => {
  it('is cut off with where to resume, while others keep receiving everything; it then resumes without loss', async () => {
    const { token } = await newUser(ctx.url);
    const doc = await newDocument(ctx.url, token, '>');
    const slow = spawnSubscriber(token, doc.id, []);
    await until(() => slow.lines.length > 0, 20_000);
    const ws = wsClient(ctx.wsUrl, token);
    const fast = subscribeChanges(ws, doc.id, []);
    await fast.until(() => fast.events.length > 0);

    slow.proc.kill('SIGSTOP');
    // 8 MB of events: more than the kernel's socket buffers and the 1 MiB the server may queue.
    const end = await write(token, doc, { seq: 0, len: 1, parents: doc.version }, 1_000, 8_000);
    const text = (await content(ctx.url, token, doc.id)).content;
    // The reading subscriber got everything, live, while the other was stopped.
    await fast.until(() => replay('', fast.events) === text, 30_000);
    expect(fast.errors).toEqual([]);

    slow.proc.kill('SIGCONT');
    await slow.exited;
    const events = slow.lines.filter((l) => l.version) as Change[];
    const failure = slow.lines.find((l) => l.error);
    // Told to resume: UNAVAILABLE, naming the last version it was sent.
    expect(failure, JSON.stringify(slow.lines.slice(-3)).slice(0, 600)).toBeDefined();
    expect(failure?.error?.[0]?.extensions?.code).toBe('UNAVAILABLE');
    const last = events[events.length - 1]!.version;
    expect(failure.error[0].extensions.resumeFrom).toEqual(last);
    expect(replay('', events).length).toBeLessThan(text.length);

    // Resuming from the last version it holds gives exactly the rest.
    const resumed = spawnSubscriber(token, doc.id, last);
    const more = await write(token, doc, end, 1, 10);
    const finalText = (await content(ctx.url, token, doc.id)).content;
    // (About 8 MB to catch up on: a generous bound, for a loaded machine.)
    const held = replay('', events);
    await until(() => replay(held, resumed.lines.filter((l) => l.version) as Change[]) === finalText, 90_000);
    expect(more.len).toBe(finalText.length);
    resumed.proc.kill('SIGKILL');
    fast.dispose();
    await ws.dispose();
  }, 180_000);

});

describe('a client that stops answering altogether', () => {
  const quick = useServer({ wsKeepAliveMs: 1_000 });
  it('is dropped by the keep-alive, and its subscription ends', async () => {
    const { token } = await newUser(quick.url);
    const doc = await newDocument(quick.url, token, 'x');
    const dead = spawnSubscriber(token, doc.id, [], quick.wsUrl);
    await until(() => dead.lines.length > 0, 20_000);
    dead.proc.kill('SIGSTOP');
    // One ping unanswered for a second: the server closes the socket (keep-alive 1 s here).
    const clients = () => quick.server.app.services.documents.peek(doc.id)!.subscriberCount;
    expect(clients()).toBe(1);
    await until(() => clients() === 0, 10_000);
    dead.proc.kill('SIGKILL');
  });
});
