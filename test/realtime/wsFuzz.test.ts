import fc from 'fast-check';
import { WebSocket } from 'ws';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHANGES, content, edit, join, newDocument, newUser, replay, type Change } from '../helpers/client.js';
import { PROPERTY_LIMITS, useServer } from '../helpers/fixture.js';
import { scrape } from '../helpers/metrics.js';

const env = useServer(PROPERTY_LIMITS);
let token: string;
beforeAll(async () => {
  token = (await newUser(env.url, 'ws-fuzz')).token;
});


type Step =
  | { kind: 'subscribe'; id: string; since: 'none' | 'empty' | 'current' | 'unknown' | 'bad' }
  | { kind: 'complete'; id: string }
  | { kind: 'edit' }
  | { kind: 'ping' }
  | { kind: 'garbage'; text: string }
  | { kind: 'wait'; ms: number };

const ID = fc.constantFrom('a', 'b', 'c');
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('subscribe' as const), id: ID, since: fc.constantFrom('none', 'empty', 'current', 'unknown', 'bad') }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('complete' as const), id: ID }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('edit' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('ping' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('garbage' as const), text: fc.oneof(fc.string(), fc.json(), fc.constantFrom('{"type":"subscribe"}', '{"id":"a","type":"next"}', '{"type":"connection_init"}')) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 30 }) }) },
);

async function gauges(): Promise<{ subscriptions: number; clients: number }> {
  const { samples } = await scrape(env.url);
  return { subscriptions: samples.get('cowrite_change_subscriptions') ?? NaN, clients: samples.get('cowrite_websocket_clients') ?? NaN };
}

describe('graphql-ws fuzzing (property)', () => {
  it('random subscribe / complete / ping / garbage sequences, with edits between: the server answers by the protocol, and nothing stays open after the socket closes', async () => {
    const idle = await gauges();
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 25 }), async (steps) => {
        const doc = await newDocument(env.url, token, 'x');
        const me = await join(env.url, token, doc.id);
        let seq = 0;
        let version = me.version;
        const socket = new WebSocket(env.wsUrl, 'graphql-transport-ws');
        const messages: { id?: string; type: string; payload?: unknown }[] = [];
        let closed: number | null = null;
        socket.on('message', (d) => messages.push(JSON.parse(String(d))));
        const closing = new Promise<void>((r) => socket.on('close', (code) => ((closed = code), r())));
        await new Promise<void>((r, j) => (socket.once('open', () => r()), socket.once('error', j)));
        socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
        await expect.poll(() => messages.some((m) => m.type === 'connection_ack') || closed !== null).toBe(true);
        expect(closed).toBeNull();

        for (const step of steps) {
          if (closed !== null) break;
          if (step.kind === 'subscribe') {
            const since = { none: undefined, empty: [], current: version, unknown: [['nobody-knows-me', 3]], bad: 'not a version' }[step.since];
            socket.send(JSON.stringify({ id: step.id, type: 'subscribe', payload: { query: CHANGES, variables: { d: doc.id, ...(since !== undefined ? { since } : {}) } } }));
          } else if (step.kind === 'complete') socket.send(JSON.stringify({ id: step.id, type: 'complete' }));
          else if (step.kind === 'ping') socket.send(JSON.stringify({ type: 'ping' }));
          else if (step.kind === 'garbage') socket.send(step.text);
          else if (step.kind === 'edit') {
            const r = await edit(env.url, token, { documentId: doc.id, agent: me.agent, seq, parents: version, ops: [{ insert: { pos: 0, text: 'y' } }] });
            expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
            version = r.data.editDocument.version;
            seq++;
          } else await new Promise((r) => setTimeout(r, step.ms));
        }
        await new Promise((r) => setTimeout(r, 20));
        // What came back is the protocol's: results with data or errors for a known id, pongs, or a close with a 44xx code.
        for (const m of messages) {
          expect(['connection_ack', 'next', 'error', 'complete', 'pong'], JSON.stringify(m)).toContain(m.type);
          if (m.type === 'next') {
            const p = m.payload as { data?: { documentChanges?: { version: unknown } }; errors?: { extensions?: { code?: string } }[] };
            expect(p.data?.documentChanges ?? p.errors, JSON.stringify(m)).toBeTruthy();
          }
          if (m.type === 'error') for (const e of m.payload as { extensions?: { code?: string } }[]) expect(['BAD_USER_INPUT', 'UNKNOWN_VERSION'], JSON.stringify(m)).toContain(e.extensions?.code);
        }
        if (closed !== null) expect(closed, `closed with ${closed}`).toBeGreaterThanOrEqual(4400);
        socket.close();
        await closing;
        // Nothing of this connection stays open on the server.
        await expect.poll(gauges, { timeout: 5000 }).toEqual(idle);
        expect((await content(env.url, token, doc.id)).content).toBe('y'.repeat(seq) + 'x');
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 25) },
    );
  });

  it('an id reused right after its operation was completed, while that one was still being set up, delivers each event once, and nothing stays open', async () => {
    const idle = await gauges();
    const doc = await newDocument(env.url, token, 'x');
    const me = await join(env.url, token, doc.id);
    const socket = new WebSocket(env.wsUrl, 'graphql-transport-ws');
    const messages: { id?: string; type: string; payload?: { data?: { documentChanges: Change } } }[] = [];
    socket.on('message', (d) => messages.push(JSON.parse(String(d))));
    await new Promise<void>((r) => socket.once('open', () => r()));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
    await expect.poll(() => messages.some((m) => m.type === 'connection_ack')).toBe(true);
    // In one go: the server is still setting up the first "b" when the other two arrive.
    const subscribe = JSON.stringify({ id: 'b', type: 'subscribe', payload: { query: CHANGES, variables: { d: doc.id, since: [] } } });
    socket.send(subscribe);
    socket.send(JSON.stringify({ id: 'b', type: 'complete' }));
    socket.send(subscribe);
    let version = me.version;
    for (let seq = 0; seq < 3; seq++) {
      const r = await edit(env.url, token, { documentId: doc.id, agent: me.agent, seq, parents: version, ops: [{ insert: { pos: 0, text: 'y' } }] });
      version = r.data.editDocument.version;
    }
    const events = () => messages.filter((m) => m.id === 'b' && m.type === 'next').map((m) => m.payload!.data!.documentChanges);
    await expect.poll(() => JSON.stringify(events().at(-1)?.version)).toBe(JSON.stringify(version));
    await new Promise((r) => setTimeout(r, 100));
    // One subscription's events, each once: replayed from the empty document, they give the text.
    expect(replay('', events())).toBe('yyyx');
    socket.close();
    await expect.poll(gauges, { timeout: 5000 }).toEqual(idle);
  });
});
